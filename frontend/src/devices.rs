//! Browser glue for the devices: `enumerateDevices` as [`MediaDevice`]s, the `devicechange`
//! listener ([`DeviceWatcher`], detached on drop), whether the speaker can be chosen
//! (`setSinkId`), the device choices and Do not disturb in localStorage, and the microphone level
//! meter ([`LevelMeter`], a WebAudio analyser whose context is closed on drop).

use crate::call_state::{Action, DeviceChoices, DeviceKind, MediaDevice};
use crate::signaling::Dispatch;
use crate::spawn::{ignore_outcome, spawn};
use gloo_timers::callback::Interval;
use js_sys::Reflect;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AnalyserNode, AudioContext, Event, MediaDevices, MediaStream, MediaStreamTrack};

fn media_devices() -> Option<MediaDevices> {
    web_sys::window()?.navigator().media_devices().ok()
}

/// `HTMLMediaElement.prototype.setSinkId` exists.
pub fn speaker_selection_supported() -> bool {
    let Some(window) = web_sys::window() else { return false };
    let prototype = Reflect::get(&window, &JsValue::from_str("HTMLMediaElement"))
        .and_then(|class| Reflect::get(&class, &JsValue::from_str("prototype")));
    prototype
        .and_then(|prototype| Reflect::get(&prototype, &JsValue::from_str("setSinkId")))
        .is_ok_and(|f| f.is_function())
}

/// Lists the devices and reports [`Action::DevicesListed`].
pub fn list_devices(dispatch: Dispatch) {
    let Some(listed) = media_devices().and_then(|devices| devices.enumerate_devices().ok()) else { return };
    spawn(async move {
        let Ok(listed) = JsFuture::from(listed).await else { return };
        let field = |info: &JsValue, name: &str| {
            Reflect::get(info, &JsValue::from_str(name)).ok().and_then(|value| value.as_string()).unwrap_or_default()
        };
        let devices = js_sys::Array::from(&listed)
            .iter()
            .filter_map(|info| {
                let kind = DeviceKind::from_browser_kind(&field(&info, "kind"))?;
                Some(MediaDevice { kind, id: field(&info, "deviceId"), label: field(&info, "label") })
            })
            .collect();
        dispatch(Action::DevicesListed { devices, speaker_selection_supported: speaker_selection_supported() });
    });
}

/// Reports `devicechange` as [`Action::DevicesChanged`] while it lives.
pub struct DeviceWatcher {
    devices: Option<MediaDevices>,
    _on_change: Closure<dyn FnMut(Event)>,
}

impl DeviceWatcher {
    pub fn start(dispatch: Dispatch) -> DeviceWatcher {
        let on_change = Closure::<dyn FnMut(Event)>::new(move |_event: Event| dispatch(Action::DevicesChanged));
        let devices = media_devices();
        if let Some(devices) = &devices {
            devices.set_ondevicechange(Some(on_change.as_ref().unchecked_ref()));
        }
        DeviceWatcher { devices, _on_change: on_change }
    }
}

impl Drop for DeviceWatcher {
    fn drop(&mut self) {
        if let Some(devices) = &self.devices {
            devices.set_ondevicechange(None);
        }
    }
}

impl std::fmt::Debug for DeviceWatcher {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("DeviceWatcher").finish_non_exhaustive()
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The choices remembered from an earlier visit (the defaults when none or unreadable).
pub fn saved_device_choices() -> DeviceChoices {
    let text = local_storage().and_then(|storage| storage.get_item(DeviceChoices::STORAGE_KEY).ok().flatten());
    DeviceChoices::from_storage(text.as_deref())
}

pub fn save_device_choices(choices: &DeviceChoices) {
    if let Some(storage) = local_storage() {
        // Storage full or disabled: the choice holds for this visit only.
        let _ = storage.set_item(DeviceChoices::STORAGE_KEY, &choices.to_storage());
    }
}

/// The localStorage key of **Do not disturb** (`"on"` when on).
const DO_NOT_DISTURB_KEY: &str = "duet.do-not-disturb";

/// **Do not disturb** as remembered from an earlier visit (off when none or unreadable).
pub fn saved_do_not_disturb() -> bool {
    local_storage().and_then(|storage| storage.get_item(DO_NOT_DISTURB_KEY).ok().flatten()).as_deref() == Some("on")
}

pub fn save_do_not_disturb(on: bool) {
    if let Some(storage) = local_storage() {
        // Storage full or disabled: the setting holds for this visit only.
        let _ = if on { storage.set_item(DO_NOT_DISTURB_KEY, "on") } else { storage.remove_item(DO_NOT_DISTURB_KEY) };
    }
}

/// The microphone's level, 0 to 100, reported every 100 ms as [`Action::MicrophoneLevelMeasured`].
pub struct LevelMeter {
    context: AudioContext,
    _timer: Interval,
}

impl LevelMeter {
    pub fn start(track: &MediaStreamTrack, dispatch: Dispatch) -> Option<LevelMeter> {
        let context = AudioContext::new().ok()?;
        let stream = MediaStream::new().ok()?;
        stream.add_track(track);
        let analyser: AnalyserNode = context.create_analyser().ok()?;
        analyser.set_fft_size(1024);
        context.create_media_stream_source(&stream).ok()?.connect_with_audio_node(&analyser).ok()?;
        let _ = context.resume();
        let mut samples = vec![0.0_f32; 1024];
        let timer = Interval::new(100, move || {
            analyser.get_float_time_domain_data(&mut samples);
            let peak = samples.iter().fold(0.0_f32, |peak, sample| peak.max(sample.abs()));
            // 0.0..=1.0 to 0..=100; the cast cannot overflow after the clamp.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let level = (peak.clamp(0.0, 1.0) * 100.0).round() as u8;
            dispatch(Action::MicrophoneLevelMeasured { level });
        });
        Some(LevelMeter { context, _timer: timer })
    }
}

impl Drop for LevelMeter {
    fn drop(&mut self) {
        if let Ok(closed) = self.context.close() {
            ignore_outcome(JsFuture::from(closed));
        }
    }
}

impl std::fmt::Debug for LevelMeter {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("LevelMeter").finish_non_exhaustive()
    }
}
