//! Plays voice clips in place, one at a time (starting one stops the one
//! playing; tapping the one playing stops it), and remembers which clips
//! this browser played so that their unplayed dot stays gone after a
//! reload ([`PlayedClips`] in `localStorage`).
//!
//! The played set starts empty on both sides and is read from storage once
//! the page has hydrated, so the server-rendered dots and the first browser
//! render agree.

use leptos::prelude::*;
use teahouse_protocol::MediaId;

use super::PlayedClips;

/// The open conversation's voice player (a context of the chat pane).
#[derive(Clone, Copy)]
pub struct VoicePlayer {
    /// The clip playing now.
    pub playing: RwSignal<Option<MediaId>>,
    /// Clips played in this browser.
    pub played: RwSignal<PlayedClips>,
    /// The audio element playing and its end handler (browser only).
    #[cfg(feature = "hydrate")]
    audio: StoredValue<Option<Playing>, LocalStorage>,
}

/// What plays a clip.
#[cfg(feature = "hydrate")]
struct Playing {
    /// The element (not in the document).
    audio: web_sys::HtmlAudioElement,
    /// Clears [`VoicePlayer::playing`] when the clip ends or fails.
    _on_end: wasm_bindgen::closure::Closure<dyn FnMut()>,
}

impl VoicePlayer {
    /// Makes the player and provides it to the components below.
    pub fn provide() -> VoicePlayer {
        let player = VoicePlayer {
            playing: RwSignal::new(None),
            played: RwSignal::new(PlayedClips::default()),
            #[cfg(feature = "hydrate")]
            audio: StoredValue::new_local(None),
        };
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| {
            if let Some(stored) =
                storage().and_then(|s| s.get_item(PlayedClips::STORAGE_KEY).ok().flatten())
            {
                player.played.set(PlayedClips::parse(&stored));
            }
        });
        on_cleanup(move || player.stop());
        provide_context(player);
        player
    }

    /// The player of the open conversation.
    pub fn expect() -> VoicePlayer {
        expect_context::<VoicePlayer>()
    }

    /// Plays `id`, or stops it if it is the one playing.
    pub fn toggle(self, id: MediaId) {
        let again = self.playing.with_untracked(|p| p.as_ref() == Some(&id));
        self.stop();
        if again {
            return;
        }
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Ok(audio) = web_sys::HtmlAudioElement::new_with_src(&super::media_url(&id)) else {
                return;
            };
            let playing = self.playing;
            let on_end =
                wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || playing.set(None));
            audio.set_onended(Some(on_end.as_ref().unchecked_ref()));
            audio.set_onerror(Some(on_end.as_ref().unchecked_ref()));
            let _ = audio.play();
            self.audio.set_value(Some(Playing {
                audio,
                _on_end: on_end,
            }));
        }
        self.playing.set(Some(id.clone()));
        self.mark_played(id);
    }

    /// Stops the clip playing, if any.
    pub fn stop(self) {
        #[cfg(feature = "hydrate")]
        if let Some(Some(p)) = self.audio.try_update_value(Option::take) {
            let _ = p.audio.pause();
            p.audio.set_onended(None);
            p.audio.set_onerror(None);
        }
        if self.playing.try_with_untracked(Option::is_some) == Some(true) {
            self.playing.set(None);
        }
    }

    fn mark_played(self, id: MediaId) {
        let mut changed = false;
        self.played.update(|p| changed = p.insert(id));
        #[cfg(feature = "hydrate")]
        if changed {
            if let Some(s) = storage() {
                let _ = s.set_item(
                    PlayedClips::STORAGE_KEY,
                    &self.played.with_untracked(PlayedClips::serialize),
                );
            }
        }
        let _ = changed;
    }
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}
