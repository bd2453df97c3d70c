//! A small push-socket client for the desk pages (the chat page has its
//! own in `live`): opens `/ws`, hands every frame to `on_frame`, pings
//! every 20 s, and reconnects with a growing delay; `on_open` runs on every
//! (re)connection so the page can fetch what it missed. Browser only.

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::window;
use teahouse_protocol::ServerFrame;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

/// Keeps a page's socket open for the page's life.
pub fn keep_open(on_frame: impl Fn(ServerFrame) + 'static, on_open: impl Fn() + 'static) {
    let on_frame: Rc<dyn Fn(ServerFrame)> = Rc::new(on_frame);
    let on_open: Rc<dyn Fn()> = Rc::new(on_open);
    connect(on_frame, on_open, Rc::new(Cell::new(0)));
}

fn url() -> String {
    let loc = window().location();
    let scheme = if loc.protocol().unwrap_or_default() == "https:" {
        "wss"
    } else {
        "ws"
    };
    format!("{scheme}://{}/ws", loc.host().unwrap_or_default())
}

fn connect(on_frame: Rc<dyn Fn(ServerFrame)>, on_open: Rc<dyn Fn()>, attempt: Rc<Cell<u32>>) {
    let Ok(ws) = WebSocket::new(&url()) else {
        return;
    };
    let ping = {
        let ws = ws.clone();
        gloo_timers::callback::Interval::new(20_000, move || {
            let _ = ws.send_with_str(r#"{"type":"ping"}"#);
        })
    };
    let opened = {
        let (on_open, attempt) = (on_open.clone(), attempt.clone());
        Closure::<dyn FnMut()>::new(move || {
            attempt.set(0);
            on_open();
        })
    };
    let message = {
        let on_frame = on_frame.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Some(text) = ev.data().as_string() {
                if let Ok(frame) = serde_json::from_str::<ServerFrame>(&text) {
                    on_frame(frame);
                }
            }
        })
    };
    let closed = {
        let ping = std::cell::RefCell::new(Some(ping));
        Closure::<dyn FnMut(CloseEvent)>::new(move |ev: CloseEvent| {
            drop(ping.borrow_mut().take());
            // Signed out: do not come back.
            if ev.code() == teahouse_protocol::close_code::SESSION_ENDED {
                return;
            }
            let n = attempt.get();
            attempt.set(n + 1);
            let delay = (500u32 << n.min(5)).min(15_000);
            let (on_frame, on_open, attempt) = (on_frame.clone(), on_open.clone(), attempt.clone());
            gloo_timers::callback::Timeout::new(delay, move || connect(on_frame, on_open, attempt))
                .forget();
        })
    };
    ws.set_onopen(Some(opened.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(closed.as_ref().unchecked_ref()));
    // The socket lives as long as the page: its handlers too.
    opened.forget();
    message.forget();
    closed.forget();
}
