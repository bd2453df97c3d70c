//! Voice messages from the composer, as WeChat does them:
//!
//! - On a touch screen the mic button switches the input to a wide
//!   "按住 说话" (hold to talk) button: holding it records, sliding the
//!   finger up cancels, releasing sends. An overlay says which will happen.
//! - With a mouse or keyboard the mic button starts recording at once and
//!   a second click stops and sends; a cancel button throws it away.
//!
//! Clips shorter than [`VOICE_MIN_MS`] are not sent ("too short"), and a
//! recording stops and is sent by itself at [`VOICE_MAX_MS`]. The clip goes
//! to the [`Outbox`] like a picked file.

use leptos::either::EitherOf3;
use leptos::prelude::*;

use super::outbox::Outbox;
use crate::format::clip_length;
use crate::i18n::{tr, use_i18n, T};
#[cfg(feature = "hydrate")]
use crate::media::{CANCEL_SLIDE_PX, VOICE_MAX_MS, VOICE_MIN_MS};

/// Where a recording is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoiceState {
    /// Not recording.
    Idle,
    /// Waiting for the microphone (the first time: for the user's yes).
    Starting,
    /// Recording; `cancel` while a holding finger has slid up.
    Recording { cancel: bool },
}

/// The composer's voice controls and their shared state.
#[derive(Clone, Copy)]
pub struct Voice {
    /// Where the clips go.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    outbox: Outbox,
    /// The recording's state.
    pub state: RwSignal<VoiceState>,
    /// Whether it was started by holding the talk button (shows the
    /// overlay) rather than by a click (shows the recording strip).
    pub held: RwSignal<bool>,
    /// How long it has been recording, ticking while it does.
    pub elapsed_ms: RwSignal<u32>,
    /// The touch layout: the hold-to-talk button instead of the text input.
    pub hold_mode: RwSignal<bool>,
    /// A short message about the last attempt (too short, no microphone).
    pub notice: RwSignal<Option<T>>,
    /// Where the holding finger went down (client y), to see it slide up.
    #[cfg(feature = "hydrate")]
    hold_start_y: StoredValue<i32>,
    /// The pointer type of the last press on the mic button ("touch",
    /// "mouse", "pen"; empty for a keyboard), read by its click handler.
    #[cfg(feature = "hydrate")]
    last_pointer: StoredValue<String>,
    /// The recording under way and the timer that updates `elapsed_ms`.
    #[cfg(feature = "hydrate")]
    recording: StoredValue<
        Option<(
            crate::media::recorder::Recording,
            gloo_timers::callback::Interval,
        )>,
        LocalStorage,
    >,
}

impl Voice {
    pub fn new(outbox: Outbox) -> Voice {
        let voice = Voice {
            outbox,
            state: RwSignal::new(VoiceState::Idle),
            held: RwSignal::new(false),
            elapsed_ms: RwSignal::new(0),
            hold_mode: RwSignal::new(false),
            notice: RwSignal::new(None),
            #[cfg(feature = "hydrate")]
            hold_start_y: StoredValue::new(0),
            #[cfg(feature = "hydrate")]
            last_pointer: StoredValue::new(String::new()),
            #[cfg(feature = "hydrate")]
            recording: StoredValue::new_local(None),
        };
        // Leaving the conversation mid-recording closes the microphone.
        #[cfg(feature = "hydrate")]
        on_cleanup(move || voice.end(false));
        voice
    }

    /// Shows `what` above the composer for a few seconds.
    #[cfg(feature = "hydrate")]
    fn tell(self, what: T) {
        let notice = self.notice;
        notice.set(Some(what));
        gloo_timers::callback::Timeout::new(2_500, move || {
            if notice.try_get_untracked() == Some(Some(what)) {
                notice.set(None);
            }
        })
        .forget();
    }

    fn recording_now(self) -> bool {
        self.state.get() != VoiceState::Idle
    }

    /// Opens the microphone and starts recording.
    #[cfg(feature = "hydrate")]
    fn begin(self, held: bool) {
        use leptos::task::spawn_local;
        if self.state.get_untracked() != VoiceState::Idle {
            return;
        }
        self.notice.set(None);
        self.held.set(held);
        self.elapsed_ms.set(0);
        self.state.set(VoiceState::Starting);
        spawn_local(async move {
            let rec = match crate::media::recorder::start().await {
                Ok(rec) => rec,
                Err(_) => {
                    self.state.set(VoiceState::Idle);
                    self.tell(T::MicUnavailable);
                    return;
                }
            };
            // Released or cancelled while the microphone was opening (or the
            // conversation was left).
            if matches!(
                self.state.try_get_untracked(),
                None | Some(VoiceState::Idle)
            ) {
                rec.cancel();
                return;
            }
            let tick = gloo_timers::callback::Interval::new(200, move || {
                let ms = self
                    .recording
                    .with_value(|r| r.as_ref().map(|(rec, _)| rec.elapsed_ms()))
                    .unwrap_or(0);
                self.elapsed_ms.set(ms);
                if ms >= VOICE_MAX_MS {
                    // After this callback returns: ending drops this timer.
                    spawn_local(async move { self.end(true) });
                }
            });
            self.recording.set_value(Some((rec, tick)));
            let cancel = matches!(
                self.state.get_untracked(),
                VoiceState::Recording { cancel: true }
            );
            self.state.set(VoiceState::Recording { cancel });
        });
    }

    /// Ends the recording: sends it (if long enough) or throws it away.
    #[cfg(feature = "hydrate")]
    fn end(self, send: bool) {
        use crate::media::MediaKind;
        use leptos::task::spawn_local;
        if matches!(
            self.state.try_get_untracked(),
            None | Some(VoiceState::Idle)
        ) {
            return;
        }
        self.state.set(VoiceState::Idle);
        let Some((rec, tick)) = self.recording.try_update_value(Option::take).flatten() else {
            // Still opening the microphone: nothing was recorded.
            if send {
                self.tell(T::TooShort);
            }
            return;
        };
        drop(tick);
        if !send {
            rec.cancel();
            return;
        }
        spawn_local(async move {
            match rec.finish().await {
                Some(clip) if clip.duration_ms >= VOICE_MIN_MS => {
                    self.outbox
                        .send_file(clip.file, MediaKind::Voice, Some(clip.duration_ms))
                }
                Some(_) => self.tell(T::TooShort),
                None => self.tell(T::MicUnavailable),
            }
        });
    }
}

/// Paths of the composer's icons (24×24, drawn with `currentColor`; SVG
/// rather than emoji, which not every device has a font for).
const MIC_ICON: &str =
    "M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3zM6 11a6 6 0 0 0 12 0M12 17v4M8 21h8";
const KEYBOARD_ICON: &str = "M3 6h18v12H3zM7 10h0M11 10h0M15 10h0M7 14h10";
const STOP_ICON: &str = "M7 7h10v10H7z";

fn icon(path: &'static str) -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
            <path d=path/>
        </svg>
    }
}

/// The mic button: switches to hold-to-talk after a tap on a touch screen;
/// starts and stops a recording after a click.
pub fn mic_button(voice: Voice) -> impl IntoView {
    let i18n = use_i18n();
    let label = move || {
        if voice.recording_now() && !voice.held.get() {
            i18n.t(T::StopAndSend)
        } else if voice.hold_mode.get() {
            i18n.t(T::Keyboard)
        } else {
            i18n.t(T::VoiceInput)
        }
    };
    let on_pointerdown = move |_ev: leptos::ev::PointerEvent| {
        #[cfg(feature = "hydrate")]
        voice.last_pointer.set_value(_ev.pointer_type());
    };
    let on_click = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let touch = voice.last_pointer.with_value(|p| p == "touch");
            voice.last_pointer.set_value(String::new());
            if voice.state.get_untracked() != VoiceState::Idle {
                voice.end(true);
            } else if touch || voice.hold_mode.get_untracked() {
                voice.hold_mode.update(|m| *m = !*m);
            } else {
                voice.begin(false);
            }
        }
    };
    view! {
        <button
            type="button"
            class="tool-button mic"
            class:recording=move || voice.recording_now() && !voice.held.get()
            aria-label=label
            title=label
            on:pointerdown=on_pointerdown
            on:click=on_click
        >
            {move || icon(if voice.hold_mode.get() {
                KEYBOARD_ICON
            } else if voice.recording_now() && !voice.held.get() {
                STOP_ICON
            } else {
                MIC_ICON
            })}
        </button>
    }
}

/// The wide "hold to talk" button of the touch layout.
pub fn hold_to_talk(voice: Voice) -> impl IntoView {
    let i18n = use_i18n();
    let on_down = move |_ev: leptos::ev::PointerEvent| {
        #[cfg(feature = "hydrate")]
        {
            _ev.prevent_default();
            if let Some(el) = _ev
                .current_target()
                .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            {
                let _ = el.set_pointer_capture(_ev.pointer_id());
            }
            voice.hold_start_y.set_value(_ev.client_y());
            voice.begin(true);
        }
    };
    let on_move = move |_ev: leptos::ev::PointerEvent| {
        #[cfg(feature = "hydrate")]
        if let VoiceState::Recording { cancel } = voice.state.get_untracked() {
            let slid_up = voice.hold_start_y.get_value() - _ev.client_y() > CANCEL_SLIDE_PX;
            if slid_up != cancel {
                voice.state.set(VoiceState::Recording { cancel: slid_up });
            }
        }
    };
    // Where the finger was on its last move decides (a lifted finger's
    // own position is not always reported).
    let on_up = move |_ev: leptos::ev::PointerEvent| {
        #[cfg(feature = "hydrate")]
        {
            let cancel = voice.state.get_untracked() == VoiceState::Recording { cancel: true };
            voice.end(!cancel);
        }
    };
    let on_cancel = move |_ev: leptos::ev::PointerEvent| {
        #[cfg(feature = "hydrate")]
        voice.end(false);
    };
    view! {
        <button
            type="button"
            class="hold-to-talk"
            class:active=move || voice.recording_now()
            on:pointerdown=on_down
            on:pointermove=on_move
            on:pointerup=on_up
            on:pointercancel=on_cancel
            on:contextmenu=|ev| ev.prevent_default()
        >
            {move || if voice.recording_now() { i18n.t(T::ReleaseToSend) } else { i18n.t(T::HoldToTalk) }}
        </button>
    }
}

/// What a recording under way shows: the centred overlay while a finger
/// holds the talk button ("slide up to cancel" / "release to cancel"), or,
/// after a click, a strip in place of the text input with the time and a
/// cancel button.
pub fn recording_status(voice: Voice) -> impl IntoView {
    let i18n = use_i18n();
    let time = move || clip_length(voice.elapsed_ms.get());
    move || match voice.state.get() {
        VoiceState::Idle => EitherOf3::A(()),
        state if voice.held.get() => {
            let cancel = matches!(state, VoiceState::Recording { cancel: true });
            EitherOf3::B(view! {
                <div class="voice-overlay" class:cancel=cancel role="status" aria-live="polite">
                    <span class="voice-overlay-mic">{icon(MIC_ICON)}</span>
                    <span class="voice-overlay-time">{time}</span>
                    <span>{move || if cancel { i18n.t(T::ReleaseToCancel) } else { i18n.t(T::SlideUpToCancel) }}</span>
                </div>
            })
        }
        _ => EitherOf3::C(view! {
            <div class="recording-strip" role="status">
                <span class="rec-dot" aria-hidden="true"></span>
                <span>{tr(T::Recording)} " " {time}</span>
                <button
                    type="button"
                    class="link-button"
                    on:click=move |_| {
                        #[cfg(feature = "hydrate")]
                        voice.end(false);
                    }
                >
                    {tr(T::Cancel)}
                </button>
            </div>
        }),
    }
}
