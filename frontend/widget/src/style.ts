// The widget's CSS, scoped to its shadow root. `:host` rules are
// !important so the page's own rules (even `* { all: unset }`) lose.

export function css(color: string, left: boolean): string {
  const side = left ? "left" : "right";
  return `:host{all:initial!important;display:block!important;position:fixed!important;z-index:2147483647!important;${side}:0!important;bottom:0!important;width:0!important;height:0!important}
*{box-sizing:border-box;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"PingFang SC","Microsoft YaHei",sans-serif;color:#111827;margin:0}
[hidden]{display:none!important}
button{cursor:pointer;border:0;background:${color};color:#fff;border-radius:8px;padding:8px 14px;font-weight:600}
button:focus-visible,textarea:focus-visible,input:focus-visible{outline:2px solid ${color};outline-offset:2px}
.launcher{position:fixed;${side}:20px;bottom:20px;border-radius:999px;padding:12px 18px;box-shadow:0 4px 14px rgba(0,0,0,.2);display:flex;gap:8px;align-items:center;color:#fff}
.badge{background:#dc2626;color:#fff;border-radius:999px;min-width:20px;height:20px;padding:0 6px;font-size:12px;line-height:20px;text-align:center}
.panel{position:fixed;${side}:20px;bottom:84px;width:min(360px,calc(100vw - 40px));height:min(540px,calc(100vh - 110px));background:#fff;border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden}
.head{background:${color};padding:14px 16px;display:flex;gap:10px;align-items:center}
.head *{color:#fff}
.head h2{font-size:16px;font-weight:700}
.head p{font-size:12px;opacity:.9}
.head .x{margin-left:auto;background:transparent;font-size:20px;padding:2px 8px}
.faces{display:flex}
.face{width:30px;height:30px;border-radius:50%;background:#fff3;border:2px solid #fff;margin-right:-8px;display:flex;align-items:center;justify-content:center;font-size:12px;overflow:hidden}
.face img{width:100%;height:100%;object-fit:cover}
.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:6px;background:#f9fafb}
.msg{max-width:80%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.in{align-self:flex-end;background:${color};color:#fff}
.out{align-self:flex-start;background:#e5e7eb}
.note{font-size:11px;color:#6b7280;align-self:flex-end}
.note.left{align-self:flex-start}
.foot{border-top:1px solid #e5e7eb;padding:8px;display:flex;gap:6px;align-items:flex-end}
textarea,input{flex:1;width:100%;border:1px solid #d1d5db;border-radius:8px;padding:8px;resize:none;background:#fff}
textarea{height:40px}
form.card{padding:12px;display:flex;flex-direction:column;gap:8px;border-top:1px solid #e5e7eb}
label{display:flex;flex-direction:column;gap:2px;font-size:12px;color:#374151}
.info{font-size:13px;color:#374151;padding:0 12px}
.file img{display:block;max-width:100%;max-height:200px;border-radius:8px}
.file a{color:inherit;text-decoration:underline}
.attach button{background:transparent;color:#374151;padding:8px}`;
}
