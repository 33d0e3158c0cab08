//! Yew function components: they render a [`ViewSnapshot`] and dispatch [`Action`]s, nothing
//! else (the only browser calls here attach a stream to a `<video>` and read form inputs).
//!
//! Stable hooks for tests and styling: `data-call-phase`, `data-peer-state` and
//! `data-signaling` on the root element; `data-selected-candidate-type` and
//! `data-selected-remote-candidate-type` (the candidate types of the pair ICE selected, while
//! the call's peer connection lives) on the remote video; accessible names on every control
//! and video.

use crate::app::ViewSnapshot;
use crate::call_state::{Action, CallPhase, LocalMedia, NoticeKind, PeerConnectionState, SignIn, SignalingConnection};
use protocol::UserName;
use std::rc::Rc;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{HtmlInputElement, HtmlVideoElement, MediaStream};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct AppViewProps {
    pub snapshot: Rc<ViewSnapshot>,
    pub dispatch: Callback<Action>,
}

/// The whole page.
#[function_component(AppView)]
pub fn app_view(props: &AppViewProps) -> Html {
    let snapshot = &props.snapshot;
    let model = &snapshot.model;
    let peer_state = model.peer_connection_state.map_or("none", PeerConnectionState::as_str);
    html! {
        <div class="app" data-call-phase={model.call.word()} data-peer-state={peer_state}
             data-signaling={model.connection.word()}>
            <header class="top-bar">
                <h1 class="brand">{"Duet"}</h1>
                if let Some(name) = model.sign_in.shown_name() {
                    <p class="signed-in-as">{"Signed in as "}<strong>{isolated(name)}</strong></p>
                }
            </header>
            if let Err(problem) = &snapshot.signaling_url {
                <p class="banner banner-alert" role="alert">{format!("Cannot connect: {problem}")}</p>
            }
            <ConnectionBanner connection={model.connection.clone()} />
            if model.shows_call_screen() {
                <CallScreen snapshot={Rc::clone(snapshot)} dispatch={props.dispatch.clone()} />
            } else {
                <SignInScreen sign_in={model.sign_in.clone()} dispatch={props.dispatch.clone()} />
            }
        </div>
    }
}

/// A form's submit handler: instead of submitting, dispatches `action` with what is typed in
/// `input`.
fn submit_typed_name(
    input: &NodeRef,
    dispatch: &Callback<Action>,
    action: fn(String) -> Action,
) -> Callback<SubmitEvent> {
    let input = input.clone();
    let dispatch = dispatch.clone();
    Callback::from(move |event: SubmitEvent| {
        event.prevent_default();
        let typed_name = input.cast::<HtmlInputElement>().map(|input| input.value()).unwrap_or_default();
        dispatch.emit(action(typed_name));
    })
}

#[derive(Properties, PartialEq)]
struct ConnectionBannerProps {
    connection: SignalingConnection,
}

#[function_component(ConnectionBanner)]
fn connection_banner(props: &ConnectionBannerProps) -> Html {
    match &props.connection {
        SignalingConnection::Connected | SignalingConnection::Dormant => html! {},
        SignalingConnection::Connecting => html! {
            <p class="banner banner-info" role="status">{"Connecting to the server…"}</p>
        },
        SignalingConnection::Reconnecting { attempt, retry_in_millis } => html! {
            <p class="banner banner-alert connection-lost" role="alert">
                {format!(
                    "Not connected to the server. Retrying in {:.1} s (attempt {attempt})…",
                    f64::from(*retry_in_millis) / 1000.0
                )}
            </p>
        },
        SignalingConnection::ReplacedByAnotherLogin => html! {
            <p class="banner banner-alert" role="alert">{"This tab is offline: your name is in use in another tab or device."}</p>
        },
    }
}

#[derive(Properties, PartialEq)]
struct SignInScreenProps {
    sign_in: SignIn,
    dispatch: Callback<Action>,
}

/// "Your name" and "Sign in"; the reason a name was refused, in words.
#[function_component(SignInScreen)]
fn sign_in_screen(props: &SignInScreenProps) -> Html {
    let name_input = use_node_ref();
    let onsubmit = submit_typed_name(&name_input, &props.dispatch, |typed_name| Action::SignInRequested { typed_name });
    let (pending, error) = match &props.sign_in {
        SignIn::SignedOut { pending_name, error } => (pending_name.clone(), error.clone()),
        _ => (None, None),
    };
    html! {
        <main class="sign-in">
            <form class="card sign-in-card" {onsubmit}>
                <h2>{"Sign in to call someone"}</h2>
                <p class="hint">{"Pick a name others can call you by. No account needed."}</p>
                <label for="sign-in-name">{"Your name"}</label>
                <input id="sign-in-name" ref={name_input} type="text" autocomplete="nickname" maxlength="64"
                       aria-describedby="sign-in-error" aria-invalid={error.is_some().to_string()} />
                <button type="submit" class="primary">{"Sign in"}</button>
                <p id="sign-in-error" class="form-error" role="alert">{error.unwrap_or_default()}</p>
                if let Some(name) = pending {
                    <p class="hint" role="status">{"Signing in as "}{isolated(&name)}{"…"}</p>
                }
            </form>
        </main>
    }
}

#[derive(Properties, PartialEq)]
struct CallScreenProps {
    snapshot: Rc<ViewSnapshot>,
    dispatch: Callback<Action>,
}

/// Videos, the call controls of the current phase, and the people online.
#[function_component(CallScreen)]
fn call_screen(props: &CallScreenProps) -> Html {
    let snapshot = &props.snapshot;
    let model = &snapshot.model;
    let dispatch = &props.dispatch;
    let on = |action: Action| {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(action.clone()))
    };
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
    let local_placeholder = match &model.local_media {
        LocalMedia::NotRequested | LocalMedia::Requesting => Some("Starting camera…"),
        LocalMedia::Ready { has_video: false, .. } => Some("No camera"),
        LocalMedia::Ready { has_video: true, .. } => None,
    };
    let media_problem = match &model.local_media {
        LocalMedia::Ready { problem: Some(problem), .. } => Some(problem.to_string()),
        _ => None,
    };
    let controls = match &model.call {
        CallPhase::Idle => html! { <CallForm dispatch={dispatch.clone()} /> },
        CallPhase::Calling { peer, .. } => {
            call_progress(html! { <>{"Calling "}{isolated(peer)}{"…"}</> }, on(Action::CancelCallClicked), "Cancel")
        }
        CallPhase::Ringing { peer, .. } => html! {
            <div class="incoming-call" role="region" aria-label="Incoming call">
                <p class="call-line"><strong>{isolated(peer)}</strong>{" is calling you"}</p>
                <div class="button-row">
                    <button class="primary" onclick={on(Action::AcceptClicked)}>{"Accept"}</button>
                    <button class="danger" onclick={on(Action::DeclineClicked)}>{"Decline"}</button>
                </div>
            </div>
        },
        CallPhase::Connecting { peer, .. } => {
            call_progress(html! { <>{"Connecting to "}{isolated(peer)}{"…"}</> }, on(Action::HangUpClicked), "Hang up")
        }
        CallPhase::InCall { peer, .. } => call_progress(
            html! { <>{"In a call with "}<strong>{isolated(peer)}</strong></> },
            on(Action::HangUpClicked),
            "Hang up",
        ),
    };
    let idle = model.call == CallPhase::Idle;
    let ringing = matches!(model.call, CallPhase::Ringing { .. });
    let selected_pair = model.selected_candidate_pair.as_ref();
    html! {
        <main class="call-screen">
            <div class="notices">
                // While it rings the panel shows the caller; the status stays for screen readers.
                <p class={classes!("notice", "notice-status", ringing.then_some("visually-hidden"))} role="status">{status_text}</p>
                <p class="notice notice-alert" role="alert">{alert_text}</p>
                if model.notice.is_some() && !ringing {
                    <button class="link-button" onclick={on(Action::DismissNoticeClicked)}>{"Dismiss"}</button>
                }
            </div>
            <section class="stage" aria-label="Videos">
                <div class="remote-frame">
                    <StreamVideo label="Remote video" class="remote-video" muted={false}
                                 stream={snapshot.remote_stream.clone()} version={snapshot.remote_media_version}
                                 local_candidate_type={selected_pair.map(|pair| AttrValue::from(pair.local_type.clone()))}
                                 remote_candidate_type={selected_pair.map(|pair| AttrValue::from(pair.remote_type.clone()))} />
                    if let Some(text) = remote_placeholder {
                        <p class="remote-placeholder" aria-hidden="true">{text}</p>
                    }
                </div>
                <div class="local-frame">
                    <StreamVideo label="Your camera" class="local-video" muted={true}
                                 stream={snapshot.local_stream.clone()} version={0} />
                    if let Some(text) = local_placeholder {
                        <p class="local-placeholder" aria-hidden="true">{text}</p>
                    }
                </div>
            </section>
            if let Some(problem) = media_problem {
                <p class="media-problem" role="note">{problem}</p>
            }
            <aside class="side">
                <section class="controls" aria-label="Call">{controls}</section>
                if idle {
                    <OnlineList users={model.online_users.clone()} dispatch={dispatch.clone()} />
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

#[derive(Properties, PartialEq)]
struct CallFormProps {
    dispatch: Callback<Action>,
}

/// "Name to call" and "Call".
#[function_component(CallForm)]
fn call_form(props: &CallFormProps) -> Html {
    let callee_input = use_node_ref();
    let onsubmit = submit_typed_name(&callee_input, &props.dispatch, |typed_name| Action::CallRequested { typed_name });
    html! {
        <form class="call-form" {onsubmit}>
            <label for="callee-name">{"Name to call"}</label>
            <div class="input-row">
                <input id="callee-name" ref={callee_input} type="text" autocomplete="off" maxlength="64" />
                <button type="submit" class="primary">{"Call"}</button>
            </div>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct OnlineListProps {
    users: Vec<UserName>,
    dispatch: Callback<Action>,
}

/// The people online; clicking a name calls them.
#[function_component(OnlineList)]
fn online_list(props: &OnlineListProps) -> Html {
    html! {
        <section class="people" aria-labelledby="people-heading">
            <h2 id="people-heading">{"People online"}</h2>
            if props.users.is_empty() {
                <p class="hint">{"No one else is online yet. Share this page with a friend."}</p>
            } else {
                <ul class="people-list">
                    { for props.users.iter().map(|user| {
                        let dispatch = props.dispatch.clone();
                        let user = user.to_string();
                        let typed_name = user.clone();
                        let onclick = Callback::from(move |_: MouseEvent| {
                            dispatch.emit(Action::CallRequested { typed_name: typed_name.clone() })
                        });
                        html! {
                            <li key={user.clone()}>
                                <button class="person" {onclick} aria-label={format!("Call {user}")} data-user={user.clone()}>
                                    <span class="avatar" aria-hidden="true">{user.chars().next().unwrap_or('?').to_uppercase().to_string()}</span>
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

#[derive(Properties, PartialEq)]
struct StreamVideoProps {
    label: AttrValue,
    class: AttrValue,
    muted: bool,
    stream: Option<MediaStream>,
    /// Changes when the stream's tracks changed and it must be re-attached.
    version: u32,
    /// Rendered as `data-selected-candidate-type` (absent when `None`).
    #[prop_or_default]
    local_candidate_type: Option<AttrValue>,
    /// Rendered as `data-selected-remote-candidate-type` (absent when `None`).
    #[prop_or_default]
    remote_candidate_type: Option<AttrValue>,
}

/// A `<video>` showing a `MediaStream` (autoplay, playsinline).
#[function_component(StreamVideo)]
fn stream_video(props: &StreamVideoProps) -> Html {
    let video_ref = use_node_ref();
    {
        let video_ref = video_ref.clone();
        let muted = props.muted;
        use_effect_with((props.stream.clone(), props.version), move |(stream, _version)| {
            if let Some(video) = video_ref.cast::<HtmlVideoElement>() {
                video.set_muted(muted);
                video.set_src_object(None);
                video.set_src_object(stream.as_ref());
                if stream.is_some() {
                    if let Ok(playing) = video.play() {
                        // Autoplay may be refused until the user interacts; the element's
                        // autoplay attribute starts it then. Never an unhandled rejection.
                        spawn_local(async move {
                            let _ = JsFuture::from(playing).await;
                        });
                    }
                }
            }
            || ()
        });
    }
    html! {
        <video ref={video_ref} class={props.class.clone()} aria-label={props.label.clone()}
               autoplay=true playsinline=true muted={props.muted}
               data-selected-candidate-type={props.local_candidate_type.clone()}
               data-selected-remote-candidate-type={props.remote_candidate_type.clone()} />
    }
}

/// A person's name as its own bidirectional island (`<bdi>`): a right-to-left name cannot
/// reorder the words around it (the server already refuses names with bidi control characters).
fn isolated(name: &UserName) -> Html {
    html! { <bdi>{name.to_string()}</bdi> }
}
