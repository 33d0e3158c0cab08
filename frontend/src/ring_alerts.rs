//! Browser glue for what rings: [`RingAlerts::follow`] runs after every action (before its
//! effects, so a tone stops before the call that stopped it starts its WebRTC work) and makes the
//! browser match the model's `tone()` and `ringing_notification()`: a tone generated with
//! WebAudio (two sine oscillators through a gain whose cadence is scheduled up front; when the
//! tone stops the gain is disconnected, silent at once, and the `AudioContext` is closed a
//! moment later, [`CLOSE_AFTER_MILLIS`], so nothing keeps playing), and a system
//! notification while a call rings in a hidden tab, if the person allowed notifications (asked
//! once, at the first sign-in: [`ask_notification_permission`]); it is closed when the call stops
//! ringing.

use crate::call_state::{AppModel, Tone};
use js_sys::Reflect;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AudioContext, GainNode, Notification, NotificationOptions, NotificationPermission, OscillatorType};

/// How loud the tones are (0 to 1).
const VOLUME: f32 = 0.08;

/// How long a tone's cadence is scheduled: longer than any ring (45 s by default).
const SCHEDULED_SECONDS: f64 = 120.0;

/// How long after a tone stops (silent from that moment) its `AudioContext` is closed.
/// `close()` holds the main thread while it stops the audio device (about 14 ms in a trace of the
/// web app bench on a loaded machine); a tone stops when the call it rang for starts its WebRTC
/// work (the answer arriving, Accept), so closing later keeps that time off the call's set-up
/// (BENCHMARKS.md, the web app's notes).
const CLOSE_AFTER_MILLIS: i32 = 2_000;

/// A tone's two frequencies (Hz), its bursts within one cycle (start and length, seconds) and
/// the cycle's length.
struct Pattern {
    frequencies: [f32; 2],
    bursts: &'static [(f64, f64)],
    cycle_seconds: f64,
}

/// The North American ringback: 440 + 480 Hz, 2 s on, 4 s off.
const RINGBACK: Pattern = Pattern { frequencies: [440.0, 480.0], bursts: &[(0.0, 2.0)], cycle_seconds: 6.0 };

/// A ringtone unlike the ringback: a double ring, C5 + E5, every 3 s.
const RINGTONE: Pattern =
    Pattern { frequencies: [523.25, 659.25], bursts: &[(0.0, 0.4), (0.6, 0.4)], cycle_seconds: 3.0 };

/// One tone playing; dropping it silences it at once and closes its audio context later.
struct TonePlayer {
    context: AudioContext,
    /// Every sound of the tone goes through it to the speakers.
    output: Option<GainNode>,
}

impl TonePlayer {
    fn start(tone: Tone) -> Option<TonePlayer> {
        let pattern = match tone {
            Tone::Ringtone => &RINGTONE,
            Tone::Ringback => &RINGBACK,
        };
        let context = AudioContext::new().ok()?;
        let mut player = TonePlayer { context, output: None };
        let gain = player.context.create_gain().ok()?;
        player.output = Some(gain.clone());
        let context = &player.context;
        let volume = gain.gain();
        volume.set_value(0.0);
        let now = context.current_time();
        let mut cycle_start = now;
        while cycle_start < now + SCHEDULED_SECONDS {
            for (offset, length) in pattern.bursts {
                volume.set_value_at_time(VOLUME, cycle_start + offset).ok()?;
                volume.set_value_at_time(0.0, cycle_start + offset + length).ok()?;
            }
            cycle_start += pattern.cycle_seconds;
        }
        gain.connect_with_audio_node(&context.destination()).ok()?;
        for frequency in pattern.frequencies {
            let oscillator = context.create_oscillator().ok()?;
            oscillator.set_type(OscillatorType::Sine);
            oscillator.frequency().set_value(frequency);
            oscillator.connect_with_audio_node(&gain).ok()?;
            oscillator.start().ok()?;
        }
        Some(player)
    }
}

impl Drop for TonePlayer {
    fn drop(&mut self) {
        // Silent now: nothing reaches the speakers once the gain is disconnected.
        if let Some(output) = &self.output {
            let _ = output.disconnect();
        }
        // Closing stops every node and releases the audio device, off the call's set-up.
        // A one-shot JS function: the closure (and the context it holds) is freed once it ran.
        let context = self.context.clone();
        let close_later = Closure::once_into_js(move || {
            let _ = context.close();
        });
        let scheduled = web_sys::window().and_then(|window| {
            window
                .set_timeout_with_callback_and_timeout_and_arguments_0(close_later.unchecked_ref(), CLOSE_AFTER_MILLIS)
                .ok()
        });
        if scheduled.is_none() {
            let _ = self.context.close();
        }
    }
}

/// True where the browser has the Notifications API.
fn notifications_supported() -> bool {
    web_sys::window().is_some_and(|window| Reflect::has(&window, &JsValue::from_str("Notification")).unwrap_or(false))
}

/// Asks for permission to notify, unless the person already answered (or the API is missing).
pub fn ask_notification_permission() {
    if notifications_supported() && Notification::permission() == NotificationPermission::Default {
        // The answer is read when a call rings; nothing waits for it.
        let _ = Notification::request_permission();
    }
}

fn page_hidden() -> bool {
    web_sys::window().and_then(|window| window.document()).is_some_and(|document| document.hidden())
}

/// The tone and the notification now playing or shown.
#[derive(Default)]
pub struct RingAlerts {
    tone: Option<(Tone, TonePlayer)>,
    notification: Option<(String, Notification)>,
}

impl RingAlerts {
    /// Starts, changes or stops the tone and the notification to match `model`.
    pub fn follow(&mut self, model: &AppModel) {
        let tone = model.tone();
        if self.tone.as_ref().map(|(playing, _)| *playing) != tone {
            self.tone = None;
            self.tone = tone.and_then(|tone| TonePlayer::start(tone).map(|player| (tone, player)));
        }
        let wanted = model.ringing_notification();
        if self.notification.as_ref().map(|(title, _)| title) != wanted.as_ref() {
            if let Some((_, shown)) = self.notification.take() {
                shown.close();
            }
            // Only when one would be shown: reading the permission asks the browser process.
            let allowed = || notifications_supported() && Notification::permission() == NotificationPermission::Granted;
            if let Some(title) = wanted.filter(|_| page_hidden() && allowed()) {
                let options = NotificationOptions::new();
                options.set_body("Open Duet to answer.");
                options.set_tag("duet-call");
                if let Ok(shown) = Notification::new_with_options(&title, &options) {
                    self.notification = Some((title, shown));
                }
            }
        }
    }
}
