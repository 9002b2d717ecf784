/** The status page's stylesheet (inline, no build step): readable on a phone, light and dark. */
export const CSS = `
:root{--fg:#1f2328;--muted:#59636e;--bg:#fff;--card:#f6f8fa;--line:#d1d9e0;--pass:#1a7f37;--degraded:#9a6700;--fail:#cf222e;--skipped:#818b98;--running:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--card:#151b23;--line:#3d444d;--pass:#3fb950;--degraded:#d29922;--fail:#f85149;--skipped:#6e7681;--running:#4493f8}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header.top{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;padding:.75rem 1rem;border-bottom:1px solid var(--line)}
header.top h1{font-size:1.15rem;margin:0}
header.top form{margin:0}
main{max-width:960px;margin:0 auto;padding:1rem}
section.monitor{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1rem;margin:0 0 1.25rem}
h2{font-size:1rem;margin:0 0 .25rem;word-break:break-all}
h3{font-size:.85rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);margin:1.1rem 0 .4rem}
.meta{color:var(--muted);font-size:.85rem}
.verdict{font-size:clamp(2.4rem,11vw,4.2rem);font-weight:800;line-height:1.05;margin:.2rem 0;letter-spacing:-.02em}
.verdict.v-pass{color:var(--pass)}.verdict.v-degraded{color:var(--degraded)}.verdict.v-fail{color:var(--fail)}.verdict.v-skipped,.verdict.v-none{color:var(--skipped)}.verdict.v-running{color:var(--running)}
.why{font-size:1rem;margin:.1rem 0 .5rem}
.pill{display:inline-block;padding:.05rem .5rem;border-radius:99px;font-size:.8rem;border:1px solid var(--line);margin-right:.3rem}
.alert{border-left:4px solid var(--fail);background:var(--bg);padding:.6rem .8rem;border-radius:6px;margin:.6rem 0}
.alert.lock{border-color:var(--degraded)}
.alert p{margin:.2rem 0}
.timeline{display:flex;flex-wrap:wrap;gap:3px;list-style:none;margin:0;padding:0}
.timeline li{position:relative}
.timeline details>summary{list-style:none;display:block;width:14px;height:28px;border-radius:3px;cursor:pointer}
.timeline details>summary::-webkit-details-marker{display:none}
.v-pass>summary,.sw.v-pass{background:var(--pass)}.v-degraded>summary,.sw.v-degraded{background:var(--degraded)}.v-fail>summary,.sw.v-fail{background:var(--fail)}.v-skipped>summary,.sw.v-skipped{background:var(--skipped)}.v-running>summary,.sw.v-running{background:var(--running)}
.timeline .pop{position:absolute;z-index:2;top:32px;left:-6px;min-width:15rem;max-width:80vw;background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.5rem .6rem;font-size:.85rem;box-shadow:0 4px 14px rgba(0,0,0,.15)}
.legend{font-size:.8rem;color:var(--muted);margin-top:.35rem}
.sw{display:inline-block;width:.7rem;height:.7rem;border-radius:2px;margin:0 .25rem 0 .6rem;vertical-align:-1px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:.6rem}
@media (max-width:600px){.charts{grid-template-columns:repeat(2,minmax(0,1fr))}}
figure.chart{min-width:0;margin:0;background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.4rem .5rem}
figure.chart.wide{grid-column:1/-1}
figure.chart figcaption{font-size:.8rem;color:var(--muted);display:flex;flex-wrap:wrap;justify-content:space-between;column-gap:.5rem}
figure.chart figcaption span:first-child{font-weight:600;color:var(--fg)}figure.chart figcaption span+span{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:100%}
figure.chart svg{width:100%;height:auto;display:block}
.p50{stroke:var(--running);fill:none;stroke-width:2}.p95{stroke:var(--degraded);fill:none;stroke-width:1.5;stroke-dasharray:4 3}
.grid{stroke:var(--line);stroke-width:1}
.empty{color:var(--muted);font-size:.85rem;margin:.3rem 0}
dl.health{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:.4rem;margin:0}
dl.health div{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.35rem .5rem}
dl.health dt{font-size:.75rem;color:var(--muted)}dl.health dd{margin:0;font-weight:600}
.live .bar{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem;margin:1.1rem 0 .4rem}.live .bar h3{margin:0}
.live ol{list-style:none;margin:0;padding:0;font:12px/1.5 ui-monospace,SFMono-Regular,Menlo,monospace;max-height:14rem;overflow:auto}
.live li{border-bottom:1px dotted var(--line);white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.live .warn{color:var(--degraded)}.live .error{color:var(--fail)}
button,input{font:inherit}
button{padding:.35rem .8rem;border-radius:6px;border:1px solid var(--line);background:var(--bg);color:var(--fg);cursor:pointer}
form.signin{max-width:24rem;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1rem;margin:0 0 1.25rem}
form.signin label{display:block;font-weight:600;margin-bottom:.3rem}
form.signin input{width:100%;padding:.5rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);margin-bottom:.6rem}
.error-msg{color:var(--fail);font-weight:600}
.uptime-windows{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:.4rem;margin:0}
.uptime-windows div{background:var(--bg);border:1px solid var(--line);border-left-width:4px;border-radius:6px;padding:.35rem .6rem}
.uptime-windows dt{font-size:.75rem;color:var(--muted)}.uptime-windows dd{margin:0}.uptime-windows dd[data-ratio]{font-size:1.5rem;font-weight:700}
.u-good{border-left-color:var(--pass)!important}.u-warn{border-left-color:var(--degraded)!important}.u-bad{border-left-color:var(--fail)!important}.u-none{border-left-color:var(--skipped)!important}
td.u-good{color:var(--pass)}td.u-warn{color:var(--degraded)}td.u-bad{color:var(--fail)}td.u-none{color:var(--muted)}
details.stages{margin-top:.4rem;font-size:.85rem}details.stages summary{cursor:pointer;color:var(--muted)}
details.stages table{border-collapse:collapse;margin-top:.3rem;width:100%;max-width:32rem}
details.stages th,details.stages td{text-align:left;padding:.15rem .5rem;border-bottom:1px solid var(--line);font-variant-numeric:tabular-nums}
ol.incidents{list-style:none;margin:0;padding:0}
ol.incidents li{background:var(--bg);border:1px solid var(--line);border-left:4px solid var(--fail);border-radius:6px;padding:.45rem .7rem;margin:0 0 .4rem}
ol.incidents li.inc-resolved{border-left-color:var(--pass)}
.inc-action{font-size:.85rem;margin-top:.2rem}
time[data-ts]{text-decoration:underline dotted;text-underline-offset:2px;cursor:help}
.charts .definition{grid-column:1/-1;margin:0 0 .2rem}
figure.chart.wide figcaption span+span{white-space:normal}
dl.health div.wide{grid-column:span 2}
footer{color:var(--muted);font-size:.8rem;text-align:center;padding:1rem}
`;
