//! Voice recording with `MediaRecorder`: the microphone is opened when a
//! recording starts and closed when it ends (the browser's "recording"
//! indicator goes away with it). The format is the first of
//! [`RECORDING_TYPES`](super::RECORDING_TYPES) the browser supports: Opus in
//! WebM or Ogg, or AAC in MP4 on iOS.

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::oneshot;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, BlobEvent, BlobPropertyBag, MediaRecorder, MediaRecorderOptions, MediaStream,
    MediaStreamConstraints, MediaStreamTrack,
};

use super::pick_recording_type;

/// A recording under way.
pub struct Recording {
    /// The recorder itself.
    recorder: MediaRecorder,
    /// The microphone's stream, whose tracks are stopped at the end.
    stream: MediaStream,
    /// Recorded data, in order.
    chunks: Rc<RefCell<Vec<Blob>>>,
    /// When recording started (ms since the epoch), for the duration.
    started_ms: f64,
    /// Fires when the recorder has stopped and handed over its last data.
    stopped: oneshot::Receiver<()>,
    /// The recorder's handlers, kept alive while it may call them.
    _handlers: Handlers,
}

/// The `dataavailable` and `stop` handlers of a recorder.
type Handlers = (Closure<dyn FnMut(BlobEvent)>, Closure<dyn FnMut()>);

/// A finished clip.
pub struct Clip {
    /// The recorded file (its type is the recorder's format).
    pub file: Blob,
    /// How long it plays.
    pub duration_ms: u32,
}

/// Opens the microphone (asking the user the first time) and starts
/// recording. `Err` if there is no microphone, the user said no, or the
/// browser cannot record.
pub async fn start() -> Result<Recording, JsValue> {
    let devices = web_sys::window()
        .ok_or(JsValue::NULL)?
        .navigator()
        .media_devices()?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio_bool(true);
    let stream: MediaStream =
        JsFuture::from(devices.get_user_media_with_constraints(&constraints)?)
            .await?
            .dyn_into()?;
    let options = MediaRecorderOptions::new();
    if let Some(mime) = pick_recording_type(MediaRecorder::is_type_supported) {
        options.set_mime_type(mime);
    }
    let recorder =
        match MediaRecorder::new_with_media_stream_and_media_recorder_options(&stream, &options) {
            Ok(r) => r,
            Err(e) => {
                stop_tracks(&stream);
                return Err(e);
            }
        };
    let chunks = Rc::new(RefCell::new(Vec::new()));
    let on_data = {
        let chunks = chunks.clone();
        Closure::<dyn FnMut(BlobEvent)>::new(move |ev: BlobEvent| {
            if let Some(data) = ev.data() {
                chunks.borrow_mut().push(data);
            }
        })
    };
    let (tx, stopped) = oneshot::channel();
    let mut tx = Some(tx);
    let on_stop = Closure::<dyn FnMut()>::new(move || {
        if let Some(tx) = tx.take() {
            let _ = tx.send(());
        }
    });
    recorder.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));
    recorder.set_onstop(Some(on_stop.as_ref().unchecked_ref()));
    if let Err(e) = recorder.start() {
        stop_tracks(&stream);
        return Err(e);
    }
    Ok(Recording {
        recorder,
        stream,
        chunks,
        started_ms: js_sys::Date::now(),
        stopped,
        _handlers: (on_data, on_stop),
    })
}

impl Recording {
    /// How long it has been recording.
    pub fn elapsed_ms(&self) -> u32 {
        (js_sys::Date::now() - self.started_ms).max(0.0) as u32
    }

    /// Stops and hands over the clip (`None` if the recorder gave nothing).
    pub async fn finish(self) -> Option<Clip> {
        let duration_ms = self.elapsed_ms();
        let _ = self.recorder.stop();
        let _ = self.stopped.await;
        stop_tracks(&self.stream);
        let parts = js_sys::Array::new();
        for chunk in self.chunks.borrow().iter() {
            parts.push(chunk);
        }
        if parts.length() == 0 {
            return None;
        }
        let kind = BlobPropertyBag::new();
        kind.set_type(&self.recorder.mime_type());
        let file = Blob::new_with_blob_sequence_and_options(&parts, &kind).ok()?;
        Some(Clip { file, duration_ms })
    }

    /// Stops and throws the recording away.
    pub fn cancel(self) {
        self.recorder.set_ondataavailable(None);
        self.recorder.set_onstop(None);
        let _ = self.recorder.stop();
        stop_tracks(&self.stream);
    }
}

/// Closes the microphone.
fn stop_tracks(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            track.stop();
        }
    }
}
