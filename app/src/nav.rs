//! Where the browser is: which page, and on the chat page which room.
//!
//! Teahouse has three pages (`/`, `/login`, `/register`) and no client-side
//! router. The pages are separate documents: the server picks the page by
//! path, and the browser hydrates the same one. Inside the chat page the open
//! room (`/?room=ID`) is a signal kept in step with the address bar through
//! the History API, so switching rooms, Back and Forward work without a
//! reload, and every room link is still a real link (middle-click, copy
//! link). The Leptos router did the same and more, but it was 21 KB of the
//! chat page's 249 KB of compressed wasm; this is a few hundred bytes.

use leptos::prelude::*;
use teahouse_protocol::ConversationId;

/// The pages, by path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// `/`: the conversation list and the open room.
    Chat,
    /// `/login`.
    Login,
    /// `/register`.
    Register,
    /// `/support`: a guest's support chat (no account).
    Support,
    /// `/desk`: the agent console.
    Desk,
    /// `/admin`: roles and the desk at a glance.
    Admin,
    /// Any other path.
    NotFound,
}

impl Page {
    /// The page served at `path`.
    pub fn at(path: &str) -> Page {
        match path {
            "/" => Page::Chat,
            "/login" => Page::Login,
            "/register" => Page::Register,
            "/support" => Page::Support,
            "/desk" => Page::Desk,
            "/admin" => Page::Admin,
            _ => Page::NotFound,
        }
    }
}

/// The path and query string of the page being rendered: the request's on
/// the server, the address bar's in the browser.
fn location() -> (String, String) {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .map(|p| {
                (
                    p.uri.path().to_owned(),
                    p.uri.query().unwrap_or_default().to_owned(),
                )
            })
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        let loc = window().location();
        (
            loc.pathname().unwrap_or_default(),
            loc.search()
                .unwrap_or_default()
                .trim_start_matches('?')
                .to_owned(),
        )
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        (String::new(), String::new())
    }
}

/// The page being rendered.
pub fn current_page() -> Page {
    Page::at(&location().0)
}

/// The value of `name` in the page's query string (not decoded beyond
/// `%XX` and `+`), if any.
pub fn query_param(name: &str) -> Option<String> {
    let query = location().1;
    let raw = query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))?
        .to_owned();
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(raw.get(i + 1..i + 3).unwrap_or(""), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The room named by a query string (`room=ID`), if any.
pub fn room_in_query(query: &str) -> Option<ConversationId> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("room="))
        .and_then(|v| v.parse().ok())
}

/// The address of the chat page with `room` open (or none).
pub fn room_href(room: Option<ConversationId>) -> String {
    match room {
        Some(id) => format!("/?room={id}"),
        None => "/".to_owned(),
    }
}

/// The chat page's open room, shared by the list, the pane and the
/// dialogs that open a room.
#[derive(Clone, Copy, Debug)]
pub struct RoomNav {
    /// The room in the address bar; `None` shows the list alone on narrow
    /// screens and a placeholder on wide ones.
    room: RwSignal<Option<ConversationId>>,
}

impl RoomNav {
    /// Reads the open room from the address and provides the navigator to
    /// the page. In the browser, Back and Forward update it too.
    pub fn provide() -> RoomNav {
        let nav = RoomNav {
            room: RwSignal::new(room_in_query(&location().1)),
        };
        #[cfg(feature = "hydrate")]
        {
            let room = nav.room;
            let handle = window_event_listener(leptos::ev::popstate, move |_| {
                room.set(room_in_query(&location().1));
            });
            on_cleanup(move || handle.remove());
        }
        provide_context(nav);
        nav
    }

    /// The open room.
    pub fn room(self) -> Signal<Option<ConversationId>> {
        self.room.into()
    }

    /// Opens `room` (or closes the open one) and records it in the
    /// browser's history.
    pub fn go(self, room: Option<ConversationId>) {
        if self.room.get_untracked() == room {
            return;
        }
        #[cfg(feature = "hydrate")]
        if let Ok(history) = window().history() {
            let _ = history.push_state_with_url(
                &wasm_bindgen::JsValue::NULL,
                "",
                Some(&room_href(room)),
            );
        }
        self.room.set(room);
    }

    /// A click handler for a link to `room`: a plain click opens it in
    /// place; a click with a modifier (new tab, new window…) is left to
    /// the browser.
    pub fn on_link_click(
        self,
        room: Option<ConversationId>,
    ) -> impl Fn(leptos::ev::MouseEvent) + Copy {
        move |ev| {
            let plain = ev.button() == 0
                && !(ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key());
            if plain {
                ev.prevent_default();
                self.go(room);
            }
        }
    }
}

/// The chat page's navigator (provided by [`RoomNav::provide`]).
pub fn use_room_nav() -> RoomNav {
    use_context::<RoomNav>().unwrap_or_else(|| RoomNav {
        room: RwSignal::new(None),
    })
}

/// Leaves this page for another document (after logging in, or when the
/// session is gone). A no-op while rendering on the server.
pub fn load_page(_href: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().assign(_href);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_by_path() {
        assert_eq!(Page::at("/"), Page::Chat);
        assert_eq!(Page::at("/login"), Page::Login);
        assert_eq!(Page::at("/register"), Page::Register);
        assert_eq!(Page::at("/login/"), Page::NotFound);
        assert_eq!(Page::at("/nope"), Page::NotFound);
    }

    #[test]
    fn room_from_query() {
        assert_eq!(room_in_query("room=12"), Some(ConversationId(12)));
        assert_eq!(room_in_query("x=1&room=7"), Some(ConversationId(7)));
        assert_eq!(room_in_query("room=abc"), None);
        assert_eq!(room_in_query(""), None);
        assert_eq!(room_href(Some(ConversationId(3))), "/?room=3");
        assert_eq!(room_href(None), "/");
    }
}
