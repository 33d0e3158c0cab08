//! The **Settings** panel's state: the devices the browser lists ([`MediaDevice`]), the person's
//! [`DeviceChoices`] (remembered in localStorage as JSON, parsed here so it is tested natively),
//! the microphone's [`AudioProcessing`] switches and the level meter's last reading.

use protocol::json;

/// What a device is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    Camera,
    Microphone,
    Speaker,
}

impl DeviceKind {
    /// The browser's `MediaDeviceInfo.kind` for this kind.
    pub fn browser_kind(self) -> &'static str {
        match self {
            DeviceKind::Camera => "videoinput",
            DeviceKind::Microphone => "audioinput",
            DeviceKind::Speaker => "audiooutput",
        }
    }

    pub fn from_browser_kind(kind: &str) -> Option<DeviceKind> {
        [DeviceKind::Camera, DeviceKind::Microphone, DeviceKind::Speaker]
            .into_iter()
            .find(|each| each.browser_kind() == kind)
    }

    /// The word used in notices ("camera", "microphone", "speaker").
    pub fn word(self) -> &'static str {
        match self {
            DeviceKind::Camera => "camera",
            DeviceKind::Microphone => "microphone",
            DeviceKind::Speaker => "speaker",
        }
    }
}

/// One device as `enumerateDevices` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDevice {
    pub kind: DeviceKind,
    pub id: String,
    /// Empty until the page was allowed to use a device.
    pub label: String,
}

/// The devices the person chose; `None` is the browser's default.
/// Stored as `{"camera":"…","microphone":"…","speaker":"…"}`, each field only when chosen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceChoices {
    pub camera: Option<String>,
    pub microphone: Option<String>,
    pub speaker: Option<String>,
}

/// The stored fields, in the order they are written.
const DEVICE_CHOICE_FIELDS: [(&str, DeviceKind); 3] =
    [("camera", DeviceKind::Camera), ("microphone", DeviceKind::Microphone), ("speaker", DeviceKind::Speaker)];

impl DeviceChoices {
    /// The localStorage key the choices are kept under.
    pub const STORAGE_KEY: &'static str = "duet-device-choices";

    /// What localStorage held; anything unreadable is the defaults.
    pub fn from_storage(text: Option<&str>) -> DeviceChoices {
        text.and_then(DeviceChoices::read).unwrap_or_default()
    }

    /// Reads stored choices as serde read them before: an object whose known fields are each
    /// there at most once, a string or `null`; other fields are skipped.
    fn read(text: &str) -> Option<DeviceChoices> {
        let mut choices = DeviceChoices::default();
        let mut seen = [false; 3];
        for (key, value) in json::members(json::value(text).ok()?).ok()?? {
            let Some(index) = DEVICE_CHOICE_FIELDS.iter().position(|(field, _)| *field == key) else { continue };
            if std::mem::replace(&mut seen[index], true) {
                return None;
            }
            let id = json::string(value).ok()?.map(|id| id.into_owned());
            if id.is_none() && !json::is_null(value) {
                return None;
            }
            choices.set(DEVICE_CHOICE_FIELDS[index].1, id);
        }
        Some(choices)
    }

    pub fn to_storage(&self) -> String {
        let mut text = String::from("{");
        for (field, kind) in DEVICE_CHOICE_FIELDS {
            let Some(id) = self.get(kind) else { continue };
            if text.len() > 1 {
                text.push(',');
            }
            json::write_string(&mut text, field);
            text.push(':');
            json::write_string(&mut text, id);
        }
        text.push('}');
        text
    }

    pub fn get(&self, kind: DeviceKind) -> Option<&String> {
        match kind {
            DeviceKind::Camera => self.camera.as_ref(),
            DeviceKind::Microphone => self.microphone.as_ref(),
            DeviceKind::Speaker => self.speaker.as_ref(),
        }
    }

    pub fn set(&mut self, kind: DeviceKind, id: Option<String>) {
        let slot = match kind {
            DeviceKind::Camera => &mut self.camera,
            DeviceKind::Microphone => &mut self.microphone,
            DeviceKind::Speaker => &mut self.speaker,
        };
        *slot = id;
    }
}

/// The microphone's processing, applied live by taking the microphone again with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioProcessing {
    pub noise_suppression: bool,
    pub echo_cancellation: bool,
    pub auto_gain_control: bool,
}

impl Default for AudioProcessing {
    fn default() -> Self {
        AudioProcessing { noise_suppression: true, echo_cancellation: true, auto_gain_control: true }
    }
}

/// One of the [`AudioProcessing`] switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioSwitch {
    NoiseSuppression,
    EchoCancellation,
    AutoGainControl,
}

impl AudioProcessing {
    pub fn set(&mut self, switch: AudioSwitch, on: bool) {
        match switch {
            AudioSwitch::NoiseSuppression => self.noise_suppression = on,
            AudioSwitch::EchoCancellation => self.echo_cancellation = on,
            AudioSwitch::AutoGainControl => self.auto_gain_control = on,
        }
    }
}

/// The Settings panel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    pub open: bool,
    pub devices: Vec<MediaDevice>,
    pub choices: DeviceChoices,
    /// `HTMLMediaElement.setSinkId` exists (the speaker can be chosen).
    pub speaker_selection_supported: bool,
    pub audio_processing: AudioProcessing,
    /// The microphone level meter's last reading, 0 to 100, while the panel is open.
    pub microphone_level: u8,
}

impl Settings {
    /// The listed devices of `kind`.
    pub fn devices_of(&self, kind: DeviceKind) -> impl Iterator<Item = &MediaDevice> {
        self.devices.iter().filter(move |device| device.kind == kind)
    }
}
