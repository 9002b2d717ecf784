/** Constants shared by global-setup (Node side) and the api workerd tests: the alert targets' secrets. */
export const API_OPS_HMAC_SECRET_NAME = "ALERT_API_OPS_WEBHOOK_HMAC";
export const API_OPS_HMAC_KEY = "api-ops-hmac-key-0123456789abcdef";
/** The api_ops monitor's PagerDuty target: its routing key (a local receiver stands in for PagerDuty). */
export const API_OPS_PD_SECRET_NAME = "ALERT_API_OPS_PD_ROUTING_KEY";
export const API_OPS_PD_KEY = "api-ops-pd-routing-key";
