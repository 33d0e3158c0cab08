//! The media buttons under the videos: **Mute**/**Unmute**, **Turn camera off**/**Turn camera
//! on**, **Share screen**/**Stop sharing**, **Settings**, and, in a call, **Statistics**, **Chat** (with the
//! unread count in its name), **Full screen** and **Picture in picture** (where the browser
//! allows them). Each button's name says what a click will do; `aria-pressed` says the state;
//! the keyboard shortcuts are in the titles and `aria-keyshortcuts`.

use super::{on_click, true_or_false};
use crate::call_state::{Action, AppModel, CallPhase, CameraState, LocalMedia, ScreenShare};
use crate::shortcuts::{CAMERA_ARIA_SHORTCUTS, CAMERA_SHORTCUT, MUTE_ARIA_SHORTCUTS, MUTE_SHORTCUT};
use yew::prelude::*;

/// The media buttons of `model`'s state.
pub(super) fn media_bar(model: &AppModel, dispatch: &Callback<Action>) -> Html {
    let on = |make: fn() -> Action| on_click(dispatch, make);
    let muted = model.media.microphone_muted;
    let camera_pending = !matches!(model.local_media, LocalMedia::Ready { .. });
    let (camera_label, camera_off) = match model.media.camera {
        CameraState::On => ("Turn camera off", false),
        CameraState::Starting | CameraState::Off => ("Turn camera on", true),
    };
    let (share_label, sharing) = match model.media.screen {
        ScreenShare::Off | ScreenShare::Starting => ("Share screen", false),
        ScreenShare::On => ("Stop sharing", true),
    };
    let in_a_call = matches!(model.call, CallPhase::Connecting { .. } | CallPhase::InCall { .. });
    let in_call = matches!(model.call, CallPhase::InCall { .. });
    html! {
        <section class="media-bar" aria-label="Your media">
            <button class={if muted { "media-button is-off" } else { "media-button" }} aria-pressed={true_or_false(muted)}
                    title={format!("{} ({MUTE_SHORTCUT})", if muted { "Unmute" } else { "Mute" })}
                    aria-keyshortcuts={MUTE_ARIA_SHORTCUTS} onclick={on(|| Action::MuteClicked)}>
                {if muted { "Unmute" } else { "Mute" }}
            </button>
            <button class={if camera_off { "media-button is-off" } else { "media-button" }} aria-pressed={true_or_false(camera_off)}
                    disabled={camera_pending || model.media.camera == CameraState::Starting}
                    title={format!("{camera_label} ({CAMERA_SHORTCUT})")} aria-keyshortcuts={CAMERA_ARIA_SHORTCUTS}
                    onclick={on(|| Action::CameraClicked)}>
                {camera_label}
            </button>
            <button class={if sharing { "media-button is-on" } else { "media-button" }} aria-pressed={true_or_false(sharing)}
                    disabled={model.media.screen == ScreenShare::Starting}
                    onclick={on(|| Action::ShareScreenClicked)}>
                {share_label}
            </button>
            <button class="media-button" aria-expanded={true_or_false(model.settings.open)} aria-controls="settings-panel"
                    onclick={on(|| Action::SettingsClicked)}>
                {"Settings"}
            </button>
            if in_call && model.viewer.full_screen {
                <button class="media-button" onclick={on(|| Action::FullScreenClicked)}>{"Full screen"}</button>
            }
            if in_call && model.viewer.picture_in_picture {
                <button class="media-button" onclick={on(|| Action::PictureInPictureClicked)}>{"Picture in picture"}</button>
            }
            if in_a_call {
                <button class="media-button" aria-expanded={true_or_false(model.stats.open)} aria-controls="stats-panel"
                        onclick={on(|| Action::StatisticsClicked)}>
                    {"Statistics"}
                </button>
                <button class={if model.chat.unread > 0 { "media-button has-unread" } else { "media-button" }}
                        aria-expanded={true_or_false(model.chat.open)} aria-controls="chat-panel"
                        onclick={on(|| Action::ChatClicked)}>
                    {model.chat.button_name()}
                </button>
            }
        </section>
    }
}
