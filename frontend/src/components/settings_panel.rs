//! The **Settings** panel: the selects **Camera**, **Microphone** and **Speaker** (the devices by
//! their labels, "Default" first; the speaker select is disabled, with the reason, where the
//! browser cannot choose an output, and says so where it lists none, as Firefox), the switches for noise suppression, echo cancellation and
//! automatic gain, and the microphone level meter.

use crate::call_state::{Action, AudioSwitch, DeviceKind, Settings};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// One labelled select of the devices of `kind`; `id`: the select's, "camera-select",
/// "microphone-select" or "speaker-select" (the kind's word).
fn device_select(
    settings: &Settings,
    kind: DeviceKind,
    id: &'static str,
    label: &str,
    dispatch: &Callback<Action>,
) -> Html {
    let chosen = settings.choices.get(kind).cloned().unwrap_or_default();
    let onchange = {
        let dispatch = dispatch.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            dispatch.emit(Action::DeviceChosen { kind, id: select.value() });
        })
    };
    let disabled = kind == DeviceKind::Speaker && !settings.speaker_selection_supported;
    // Firefox has setSinkId but lists no outputs (until one is picked through its own prompt):
    // "Default" is all there is, and the person is told why.
    let no_outputs_listed =
        kind == DeviceKind::Speaker && !disabled && settings.devices_of(kind).all(|device| device.id.is_empty());
    html! {
        <div class="setting">
            <label for={id}>{label}</label>
            <select {id} {onchange} {disabled}>
                <option value="" selected={chosen.is_empty()}>{"Default"}</option>
                { for settings.devices_of(kind).filter(|device| !device.id.is_empty()).enumerate().map(|(index, device)| {
                    let name = if device.label.is_empty() { format!("{label} {}", index + 1) } else { device.label.clone() };
                    html! { <option value={device.id.clone()} selected={device.id == chosen}>{name}</option> }
                }) }
            </select>
            if disabled {
                <p class="hint">{"This browser cannot choose the speaker; sound plays on the system's default output."}</p>
            }
            if no_outputs_listed {
                <p class="hint">{"This browser lists no speakers to choose from; sound plays on the system's default output."}</p>
            }
        </div>
    }
}

/// One labelled switch of the microphone's processing; `id`: the input's, "switch-" and the
/// switch's name in lower case.
fn audio_switch(switch: AudioSwitch, id: &'static str, on: bool, label: &str, dispatch: &Callback<Action>) -> Html {
    let onchange = {
        let dispatch = dispatch.clone();
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            dispatch.emit(Action::AudioProcessingChanged { switch, on: input.checked() });
        })
    };
    html! {
        <div class="setting setting-switch">
            <input {id} type="checkbox" role="switch" checked={on} {onchange} />
            <label for={id}>{label}</label>
        </div>
    }
}

/// The Settings panel of `settings`.
pub(super) fn settings_panel(settings: &Settings, dispatch: &Callback<Action>) -> Html {
    let processing = settings.audio_processing;
    html! {
        <section id="settings-panel" class="settings-panel card" aria-label="Settings">
            <h2>{"Settings"}</h2>
            { device_select(settings, DeviceKind::Camera, "camera-select", "Camera", dispatch) }
            { device_select(settings, DeviceKind::Microphone, "microphone-select", "Microphone", dispatch) }
            { device_select(settings, DeviceKind::Speaker, "speaker-select", "Speaker", dispatch) }
            <div class="setting">
                <label for="microphone-level">{"Microphone level"}</label>
                <meter id="microphone-level" min="0" max="100" low="5" value={settings.microphone_level.to_string()}>
                    {format!("{}%", settings.microphone_level)}
                </meter>
            </div>
            { audio_switch(AudioSwitch::NoiseSuppression, "switch-noisesuppression", processing.noise_suppression, "Noise suppression", dispatch) }
            { audio_switch(AudioSwitch::EchoCancellation, "switch-echocancellation", processing.echo_cancellation, "Echo cancellation", dispatch) }
            { audio_switch(AudioSwitch::AutoGainControl, "switch-autogaincontrol", processing.auto_gain_control, "Automatic gain", dispatch) }
        </section>
    }
}
