/*
 * Teahouse support widget: a floating button that opens the support chat
 * (/support of the server this script comes from) in an iframe. Nothing of
 * the chat app loads until the button is pressed. On screens narrower than
 * 600 px the chat fills the screen.
 *
 *   <script src="https://chat.example.com/widget.js"
 *           data-title="在线客服" data-color="#07c160" async></script>
 *
 * data-title: the button's label and the panel's title (default 在线客服);
 * data-color: the button's colour (default #07c160); data-lang: zh or en.
 */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || window.__teahouseWidget) return;
  window.__teahouseWidget = true;
  var origin = new URL(me.src, location.href).origin;
  var title = me.getAttribute("data-title") || "在线客服";
  var color = me.getAttribute("data-color") || "#07c160";
  if (!/^#[0-9a-fA-F]{3,8}$|^[a-zA-Z]+$/.test(color)) color = "#07c160";
  var lang = me.getAttribute("data-lang") === "en" ? "en" : "zh";
  var closeLabel = lang === "en" ? "Close" : "关闭";

  function el(tag, css, attrs) {
    var e = document.createElement(tag);
    e.style.cssText = css;
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }

  var button = el(
    "button",
    "position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:24px;" +
      "padding:12px 18px;font:15px/1.2 system-ui,sans-serif;color:#fff;cursor:pointer;" +
      "box-shadow:0 4px 14px rgba(0,0,0,.25);background:" + color,
    { type: "button", "data-teahouse-widget": "button", "aria-expanded": "false" }
  );
  button.textContent = title;

  var panel = null;
  function open() {
    if (!panel) {
      var narrow = window.matchMedia("(max-width: 600px)").matches;
      panel = el(
        "div",
        "position:fixed;z-index:2147483001;background:#fff;display:flex;flex-direction:column;" +
          "box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden;" +
          (narrow
            ? "inset:0;border-radius:0"
            : "right:20px;bottom:80px;width:380px;height:560px;max-height:calc(100vh - 100px);border-radius:12px"),
        { "data-teahouse-widget": "panel", role: "dialog", "aria-label": title }
      );
      var bar = el(
        "div",
        "display:flex;align-items:center;justify-content:space-between;padding:10px 14px;" +
          "font:15px system-ui,sans-serif;color:#fff;background:" + color
      );
      var label = document.createElement("span");
      label.textContent = title;
      var close = el(
        "button",
        "border:0;background:transparent;color:#fff;font-size:20px;cursor:pointer;line-height:1",
        { type: "button", "aria-label": closeLabel, "data-teahouse-widget": "close" }
      );
      close.textContent = "×";
      close.onclick = hide;
      bar.appendChild(label);
      bar.appendChild(close);
      var page = encodeURIComponent(location.href.slice(0, 300));
      var frame = el("iframe", "flex:1;border:0;width:100%", {
        src: origin + "/support?embed=1&lang=" + lang + "&page=" + page,
        title: title,
        allow: "microphone",
        "data-teahouse-widget": "frame",
      });
      panel.appendChild(bar);
      panel.appendChild(frame);
      document.body.appendChild(panel);
    }
    panel.style.display = "flex";
    button.setAttribute("aria-expanded", "true");
  }
  function hide() {
    if (panel) panel.style.display = "none";
    button.setAttribute("aria-expanded", "false");
  }
  button.onclick = function () {
    if (panel && panel.style.display !== "none") hide();
    else open();
  };
  function mount() {
    document.body.appendChild(button);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
