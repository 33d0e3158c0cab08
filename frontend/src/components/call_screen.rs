//! The call screen: the remote video (covered by the person's initial while their camera is
//! off, with their state in words: "NAME is muted", "NAME turned the camera off", "NAME is
//! sharing their screen", shown only while true), our preview, the media buttons, the call's
//! controls for its phase, the verification code (`verification.rs`), the connection's quality
//! on the remote video and trouble with it in words, "Reconnecting…" over the remote video while
//! its ICE is restarted, the Call statistics panel, the Settings and chat panels while open, and,
//! while idle, the missed calls, the Recent list (`recent_list.rs`) and the people online.

use super::chat_panel::chat_panel;
use super::media_bar::media_bar;
use super::missed_calls::missed_calls;
use super::recent_list::recent_list;
use super::settings_panel::settings_panel;
use super::stats_panel::{quality_indicator, stats_panel};
use super::verification::verification;
use super::video::StreamVideo;
use super::{isolated, on_click, on_click_with, submit_typed_name};
use crate::app::ViewSnapshot;
use crate::call_state::{
    Action, CallPhase, CameraState, LocalMedia, NoticeKind, PendingStart, RemoteMediaState, VideoSource,
    WAITING_FOR_LOCAL_MEDIA,
};
use protocol::UserName;
use yew::prelude::*;

/// The first letter of a name, upper-case, for an avatar.
fn initial(name: &impl std::fmt::Display) -> String {
    crate::text_case::initial(&name.to_string())
}

/// The other person's state, in words and an icon, only while it holds.
fn remote_indicators(peer: Option<&UserName>, remote: Option<RemoteMediaState>) -> Html {
    let (Some(peer), Some(remote)) = (peer, remote) else {
        return html! { <ul class="remote-indicators" role="status" aria-label="The other person"></ul> };
    };
    // Icons as inline SVG paths (24x24): a struck-out microphone, a struck-out camera, a screen.
    let shown = [
        (
            remote.muted,
            "M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3zM6 11a6 6 0 0 0 12 0M12 17v4M4 4l16 16",
            " is muted",
        ),
        (remote.camera_off, "M3 7h12v10H3zM15 10l6-3v10l-6-3M4 4l16 16", " turned the camera off"),
        (remote.sharing_screen, "M3 4h18v12H3zM8 20h8M12 16v4", " is sharing their screen"),
    ];
    html! {
        <ul class="remote-indicators" role="status" aria-label="The other person">
            { for shown.into_iter().filter(|(holds, ..)| *holds).map(|(_, icon, words)| html! {
                <li class="remote-indicator">
                    <svg class="indicator-icon" viewBox="0 0 24 24" aria-hidden="true"><path d={icon} /></svg>
                    // One flex item: as separate items, the space that starts `words` collapsed.
                    <span>{isolated(peer)}{words}</span>
                </li>
            }) }
        </ul>
    }
}

/// Videos, the call controls of the current phase, and the people online.
pub(super) fn call_screen(snapshot: &ViewSnapshot, dispatch: &Callback<Action>) -> Html {
    let model = &snapshot.model;
    let on = |make: fn() -> Action| on_click(dispatch, make);
    let (status_text, alert_text) = match &model.notice {
        Some(notice) if notice.kind == NoticeKind::Status => (notice.text.clone(), String::new()),
        Some(notice) => (String::new(), notice.text.clone()),
        None => (String::new(), String::new()),
    };
    let remote_placeholder = match &model.call {
        CallPhase::Idle => Some(html! { {"No one on the line"} }),
        CallPhase::Calling { peer, .. } => Some(html! { <>{"Calling "}{isolated(peer)}{"…"}</> }),
        CallPhase::Ringing { peer, .. } => Some(html! { <>{isolated(peer)}{" is calling"}</> }),
        CallPhase::Connecting { peer, .. } => Some(html! { <>{"Connecting to "}{isolated(peer)}{"…"}</> }),
        CallPhase::InCall { .. } => None,
    };
    let in_a_call = matches!(model.call, CallPhase::Connecting { .. } | CallPhase::InCall { .. });
    let remote_media = model.remote_media.filter(|_| in_a_call);
    let remote_video_hidden = remote_media.is_some_and(|remote| remote.video_hidden());
    let local_placeholder = match (&model.local_media, model.media.video_source(), model.media.camera) {
        (_, VideoSource::Camera | VideoSource::Screen, _) => None,
        (LocalMedia::NotRequested | LocalMedia::Requesting, ..) | (_, _, CameraState::Starting) => {
            Some("Starting camera…")
        }
        (LocalMedia::Ready { has_video: false, .. }, _, _) => Some("No camera"),
        (LocalMedia::Ready { .. }, _, _) => Some("Camera is off"),
    };
    let media_problem = match &model.local_media {
        LocalMedia::Ready { problem: Some(problem), .. } => Some(problem.to_string()),
        _ => None,
    };
    let controls = match &model.call {
        CallPhase::Idle => call_form(dispatch),
        CallPhase::Calling { peer, .. } => {
            call_progress(html! { <>{"Calling "}{isolated(peer)}{"…"}</> }, on(|| Action::CancelCallClicked), "Cancel")
        }
        CallPhase::Ringing { peer, .. } => html! {
            <div class="incoming-call" role="region" aria-label="Incoming call">
                <p class="call-line"><strong>{isolated(peer)}</strong>{" is calling you"}</p>
                if matches!(model.pending_start, Some(PendingStart::Accept { .. })) {
                    <p class="hint">{WAITING_FOR_LOCAL_MEDIA}</p>
                }
                <div class="button-row">
                    <button class="primary" onclick={on(|| Action::AcceptClicked)}>{"Accept"}</button>
                    <button class="danger" onclick={on(|| Action::DeclineClicked)}>{"Decline"}</button>
                </div>
            </div>
        },
        CallPhase::Connecting { peer, .. } => call_progress(
            html! { <>{"Connecting to "}{isolated(peer)}{"…"}</> },
            on(|| Action::HangUpClicked),
            "Hang up",
        ),
        CallPhase::InCall { peer, .. } => call_progress(
            html! { <>{"In a call with "}<strong>{isolated(peer)}</strong></> },
            on(|| Action::HangUpClicked),
            "Hang up",
        ),
    };
    let idle = model.call == CallPhase::Idle;
    let ringing = matches!(model.call, CallPhase::Ringing { .. });
    let selected_pair = model.selected_candidate_pair.as_ref();
    html! {
        <main key="call-screen" class="call-screen">
            <div class="notices">
                // While it rings the panel shows the caller; the status stays for screen readers.
                <p class={if ringing { "notice notice-status visually-hidden" } else { "notice notice-status" }} role="status">{status_text}</p>
                <p class="notice notice-alert" role="alert">{alert_text}</p>
                if model.notice.is_some() && !ringing {
                    <button class="link-button" onclick={on(|| Action::DismissNoticeClicked)}>{"Dismiss"}</button>
                }
            </div>
            <section class="stage" aria-label="Videos">
                <div class="remote-frame">
                    <StreamVideo label="Remote video" muted={false}
                                 class={if remote_video_hidden { "remote-video covered" } else { "remote-video" }}
                                 stream={snapshot.remote_stream.clone()} version={snapshot.remote_media_version}
                                 sink_id={model.settings.speaker_selection_supported.then(|| AttrValue::from(model.settings.choices.speaker.clone().unwrap_or_default()))}
                                 local_candidate_type={selected_pair.map(|pair| AttrValue::from(pair.local_type.clone()))}
                                 remote_candidate_type={selected_pair.map(|pair| AttrValue::from(pair.remote_type.clone()))} />
                    if let Some(text) = remote_placeholder {
                        <p class="remote-placeholder" aria-hidden="true"><span>{text}</span></p>
                    }
                    if let (true, Some(peer)) = (remote_video_hidden, model.call.peer_name()) {
                        <div class="remote-camera-off" aria-hidden="true">
                            <span class="avatar avatar-large">{initial(peer)}</span>
                        </div>
                    }
                    {remote_indicators(model.call.peer_name(), remote_media)}
                    if in_a_call {
                        {quality_indicator(model.stats.quality())}
                    }
                    if model.shows_media_reconnecting() {
                        <div class="media-reconnecting" role="status">
                            <span class="spinner" aria-hidden="true"></span>{"Reconnecting…"}
                        </div>
                    }
                    if let (Some(trouble), Some(peer)) = (model.remote_video_trouble(), model.call.peer_name()) {
                        <p class="video-trouble" role="status">{isolated(peer)}{trouble.to_string()}</p>
                    }
                </div>
                <div class="local-frame">
                    <StreamVideo label="Your camera" muted={true}
                                 class={if model.media.video_source() == VideoSource::Screen { "local-video shows-screen" } else { "local-video" }}
                                 stream={snapshot.local_stream.clone()} version={0} />
                    if let Some(text) = local_placeholder {
                        <p class="local-placeholder" aria-hidden="true">{text}</p>
                    }
                </div>
            </section>
            if let Some(problem) = media_problem {
                <p class="media-problem" role="note">{problem}</p>
            }
            {media_bar(model, dispatch)}
            <aside class="side">
                <section class="controls" aria-label="Call">{controls}</section>
                if let (true, Some(peer)) = (in_a_call && model.data_channel_open, model.call.peer_name()) {
                    {verification(peer, model.verification.outcome)}
                }
                if model.settings.open {
                    {settings_panel(&model.settings, dispatch)}
                }
                if in_a_call && model.stats.open {
                    {stats_panel(&model.stats, model.recovery, dispatch)}
                }
                if in_a_call && model.chat.open {
                    {chat_panel(&model.chat, dispatch)}
                }
                if idle {
                    {missed_calls(&model.missed_calls, dispatch)}
                }
                if idle {
                    {recent_list(model, dispatch)}
                }
                if idle {
                    {online_list(&model.online_users, dispatch)}
                }
            </aside>
        </main>
    }
}

/// How the call stands (`line`), and the button that ends it.
fn call_progress(line: Html, end_call: Callback<MouseEvent>, end_label: &'static str) -> Html {
    html! {
        <div class="call-progress">
            <p class="call-line">{line}</p>
            <button class="danger" onclick={end_call}>{end_label}</button>
        </div>
    }
}

/// "Name to call" and "Call".
fn call_form(dispatch: &Callback<Action>) -> Html {
    let onsubmit = submit_typed_name("callee-name", dispatch, |typed_name| Action::CallRequested { typed_name });
    html! {
        <form class="call-form" {onsubmit}>
            <label for="callee-name">{"Name to call"}</label>
            <div class="input-row">
                <input id="callee-name" type="text" autocomplete="off" maxlength="64" />
                <button type="submit" class="primary">{"Call"}</button>
            </div>
        </form>
    }
}

/// The people online; clicking a name calls them.
fn online_list(users: &[UserName], dispatch: &Callback<Action>) -> Html {
    html! {
        <section class="people" aria-labelledby="people-heading">
            <h2 id="people-heading">{"People online"}</h2>
            if users.is_empty() {
                <p class="hint">{"No one else is online yet. Share this page with a friend."}</p>
            } else {
                <ul class="people-list">
                    { for users.iter().map(|user| {
                        let user = user.to_string();
                        let onclick = on_click_with(dispatch, user.clone(), |typed_name| Action::CallRequested { typed_name });
                        html! {
                            <li key={user.clone()}>
                                <button class="person" {onclick} aria-label={["Call ", &user].concat()} data-user={user.clone()}>
                                    <span class="avatar" aria-hidden="true">{initial(&user)}</span>
                                    <span class="person-name"><bdi>{user.clone()}</bdi></span>
                                </button>
                            </li>
                        }
                    }) }
                </ul>
            }
        </section>
    }
}
