/** Constants shared by global-setup (Node side) and the api workerd tests: the signed webhook's key. */
export const API_OPS_HMAC_SECRET_NAME = "ALERT_API_OPS_WEBHOOK_HMAC";
export const API_OPS_HMAC_KEY = "api-ops-hmac-key-0123456789abcdef";
