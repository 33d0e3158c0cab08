//! The root component and the `Controller` that connects the pure [`CallState`] to the browser:
//! it runs the reducer for every [`Action`], carries out the returned [`Effect`]s through the
//! `signaling`, `media` and `peer` glue it owns, and publishes a [`ViewSnapshot`] to Yew.
//!
//! Actions are queued, so an effect that dispatches synchronously never re-enters the reducer.

use crate::call_state::{Action, CallState, Effect, ONLINE_USERS_REFRESH_MILLIS};
use crate::components::AppView;
use crate::ice_diagnostics::{IceTransportPolicy, ICE_TRANSPORT_POLICY_QUERY_PARAMETER};
use crate::media::{acquire_camera_and_microphone, stop_every_track};
use crate::peer::PeerSession;
use crate::signaling::{Dispatch, SignalingSocket};
use crate::signaling_url::{
    resolve_signaling_url, PageLocation, ALLOWED_SIGNALING_ORIGINS_META_NAME, SIGNALING_META_NAME,
    SIGNALING_QUERY_PARAMETER,
};
use gloo_timers::callback::{Interval, Timeout};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use wasm_bindgen_futures::spawn_local;
use web_sys::{MediaStream, UrlSearchParams};
use yew::prelude::*;

/// Everything the view renders: the pure state plus the streams to attach to the videos.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewSnapshot {
    pub state: CallState,
    pub local_stream: Option<MediaStream>,
    pub remote_stream: Option<MediaStream>,
    /// Bumped whenever a remote track arrives, so the remote video re-attaches its stream.
    pub remote_media_version: u32,
    /// Where we connect, or why the configured address is unusable.
    pub signaling_url: Result<String, String>,
}

/// Reads the signaling URL configuration from the page (`?signaling=`, `<meta>`), falling back
/// to same-origin `/ws`.
fn configured_signaling_url() -> Result<String, String> {
    let window = web_sys::window().ok_or("no browser window")?;
    let location = window.location();
    let page = PageLocation {
        protocol: location.protocol().unwrap_or_else(|_| "http:".to_owned()),
        host: location.host().unwrap_or_default(),
    };
    let query_value = location
        .search()
        .ok()
        .and_then(|search| UrlSearchParams::new_with_str(&search).ok())
        .and_then(|params| params.get(SIGNALING_QUERY_PARAMETER));
    let meta_value = window
        .document()
        .and_then(|document| document.query_selector(&format!("meta[name=\"{SIGNALING_META_NAME}\"]")).ok().flatten())
        .and_then(|meta| meta.get_attribute("content"));
    let allowed_origins_selector = format!("meta[name=\"{ALLOWED_SIGNALING_ORIGINS_META_NAME}\"]");
    let allowed_origins_value = window
        .document()
        .and_then(|document| document.query_selector(&allowed_origins_selector).ok().flatten())
        .and_then(|meta| meta.get_attribute("content"));
    resolve_signaling_url(&page, query_value.as_deref(), meta_value.as_deref(), allowed_origins_value.as_deref())
        .map_err(|refusal| refusal.to_string())
}

/// Reads the diagnostic `?ice-transport-policy=` setting (`relay` or `all`, default `all`).
fn configured_ice_transport_policy() -> Result<IceTransportPolicy, String> {
    let search = web_sys::window().and_then(|window| window.location().search().ok()).unwrap_or_default();
    let value =
        UrlSearchParams::new_with_str(&search).ok().and_then(|params| params.get(ICE_TRANSPORT_POLICY_QUERY_PARAMETER));
    IceTransportPolicy::from_query_value(value.as_deref())
}

/// Owns the state, the browser resources of the current session, and the timers.
pub struct Controller {
    weak_self: Weak<Controller>,
    state: RefCell<CallState>,
    queued_actions: RefCell<VecDeque<Action>>,
    processing_actions: Cell<bool>,
    signaling_url: Result<String, String>,
    /// The diagnostic ICE transport policy; an unusable value fails each call in words.
    ice_transport_policy: Result<IceTransportPolicy, String>,
    signaling: RefCell<Option<SignalingSocket>>,
    local_stream: RefCell<Option<MediaStream>>,
    peer: RefCell<Option<PeerSession>>,
    remote_media_version: Cell<u32>,
    reconnect_timer: RefCell<Option<Timeout>>,
    online_users_timer: RefCell<Option<Interval>>,
    publish_snapshot: UseStateSetter<Rc<ViewSnapshot>>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Controller").field("state", &self.state.borrow()).finish_non_exhaustive()
    }
}

impl PartialEq for Controller {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Controller {
    pub fn new(publish_snapshot: UseStateSetter<Rc<ViewSnapshot>>) -> Rc<Controller> {
        Rc::new_cyclic(|weak_self| Controller {
            weak_self: weak_self.clone(),
            state: RefCell::new(CallState::new()),
            queued_actions: RefCell::new(VecDeque::new()),
            processing_actions: Cell::new(false),
            signaling_url: configured_signaling_url(),
            ice_transport_policy: configured_ice_transport_policy(),
            signaling: RefCell::new(None),
            local_stream: RefCell::new(None),
            peer: RefCell::new(None),
            remote_media_version: Cell::new(0),
            reconnect_timer: RefCell::new(None),
            online_users_timer: RefCell::new(None),
            publish_snapshot,
        })
    }

    /// The first snapshot, before anything happened.
    pub fn initial_snapshot() -> Rc<ViewSnapshot> {
        Rc::new(ViewSnapshot {
            state: CallState::new(),
            local_stream: None,
            remote_stream: None,
            remote_media_version: 0,
            signaling_url: Ok(String::new()),
        })
    }

    /// A dispatcher that does nothing once the controller is gone.
    fn dispatcher(&self) -> Dispatch {
        let weak = self.weak_self.clone();
        Rc::new(move |action| {
            if let Some(controller) = weak.upgrade() {
                controller.dispatch(action);
            }
        })
    }

    /// Starts the app: the connection and the periodic refresh of the online list.
    pub fn start(&self) {
        let dispatch = self.dispatcher();
        self.online_users_timer
            .replace(Some(Interval::new(ONLINE_USERS_REFRESH_MILLIS, move || dispatch(Action::OnlineUsersRefreshDue))));
        self.dispatch(Action::AppStarted);
    }

    /// Runs `action` (and every action it causes) through the reducer, then re-renders.
    pub fn dispatch(&self, action: Action) {
        self.queued_actions.borrow_mut().push_back(action);
        if self.processing_actions.replace(true) {
            return;
        }
        loop {
            let next = self.queued_actions.borrow_mut().pop_front();
            let Some(action) = next else { break };
            let effects = self.state.borrow_mut().apply(action);
            for effect in effects {
                self.carry_out(effect);
            }
        }
        self.processing_actions.set(false);
        self.publish();
    }

    fn publish(&self) {
        if let Some(document) = web_sys::window().and_then(|window| window.document()) {
            let title = self.state.borrow().call.page_title();
            if document.title() != title {
                document.set_title(&title);
            }
        }
        let remote_stream = self.peer.borrow().as_ref().and_then(PeerSession::remote_stream);
        self.publish_snapshot.set(Rc::new(ViewSnapshot {
            state: self.state.borrow().clone(),
            local_stream: self.local_stream.borrow().clone(),
            remote_stream,
            remote_media_version: self.remote_media_version.get(),
            signaling_url: self.signaling_url.clone(),
        }));
    }

    fn carry_out(&self, effect: Effect) {
        let dispatch = self.dispatcher();
        match effect {
            Effect::OpenSignalingConnection => {
                if let Ok(url) = &self.signaling_url {
                    // Replacing the old socket drops (closes) it.
                    self.signaling.replace(Some(SignalingSocket::open(url, dispatch)));
                }
            }
            Effect::ScheduleReconnect { delay_millis } => {
                self.signaling.replace(None);
                self.reconnect_timer.replace(Some(Timeout::new(delay_millis, move || dispatch(Action::ReconnectDue))));
            }
            Effect::Send(message) => {
                if let Some(socket) = self.signaling.borrow().as_ref() {
                    socket.send_text(message.to_json());
                }
            }
            Effect::AcquireLocalMedia => {
                let weak = self.weak_self.clone();
                spawn_local(async move {
                    let outcome = acquire_camera_and_microphone().await;
                    let Some(controller) = weak.upgrade() else {
                        if let Some(stream) = &outcome.stream {
                            stop_every_track(stream);
                        }
                        return;
                    };
                    controller.local_stream.replace(outcome.stream);
                    controller.dispatch(Action::LocalMediaSettled {
                        has_audio: outcome.has_audio,
                        has_video: outcome.has_video,
                        problem: outcome.problem,
                    });
                });
            }
            Effect::StartOutgoingCall { call_id, ice_servers } => {
                match PeerSession::create(
                    call_id,
                    &ice_servers,
                    &self.ice_transport_policy,
                    dispatch.clone(),
                    self.remote_media_listener(),
                ) {
                    Ok(peer) => {
                        peer.start_offer(self.local_stream.borrow().as_ref(), dispatch);
                        self.peer.replace(Some(peer));
                    }
                    Err(detail) => dispatch(Action::PeerConnectionFailed { call_id, detail }),
                }
            }
            Effect::AnswerIncomingCall { call_id, ice_servers, offer, remote_candidates } => {
                match PeerSession::create(
                    call_id,
                    &ice_servers,
                    &self.ice_transport_policy,
                    dispatch.clone(),
                    self.remote_media_listener(),
                ) {
                    Ok(peer) => {
                        peer.answer_offer(
                            &offer,
                            &remote_candidates,
                            self.local_stream.borrow().clone(),
                            true,
                            dispatch,
                        );
                        self.peer.replace(Some(peer));
                    }
                    Err(detail) => dispatch(Action::PeerConnectionFailed { call_id, detail }),
                }
            }
            Effect::ApplyRemoteAnswer { call_id, answer, remote_candidates } => {
                if let Some(peer) = self.peer.borrow().as_ref().filter(|peer| peer.call_id() == call_id) {
                    peer.apply_answer(&answer, &remote_candidates, dispatch);
                }
            }
            Effect::AnswerRenegotiationOffer { call_id, offer } => {
                if let Some(peer) = self.peer.borrow().as_ref().filter(|peer| peer.call_id() == call_id) {
                    peer.answer_offer(&offer, &[], None, false, dispatch);
                }
            }
            Effect::AddRemoteIceCandidate { call_id, candidate } => {
                if let Some(peer) = self.peer.borrow().as_ref().filter(|peer| peer.call_id() == call_id) {
                    peer.add_remote_candidate(&candidate);
                }
            }
            Effect::ReleasePeerConnection => {
                let released = self.peer.borrow_mut().take();
                drop(released);
            }
        }
    }

    /// Called by the peer glue when a remote track arrives: re-render with the new stream.
    fn remote_media_listener(&self) -> Rc<dyn Fn()> {
        let weak = self.weak_self.clone();
        Rc::new(move || {
            if let Some(controller) = weak.upgrade() {
                controller.remote_media_version.set(controller.remote_media_version.get().wrapping_add(1));
                if !controller.processing_actions.get() {
                    controller.publish();
                }
            }
        })
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        if let Some(stream) = self.local_stream.borrow_mut().take() {
            stop_every_track(&stream);
        }
    }
}

/// The root component: owns the controller, renders the latest snapshot.
#[function_component(App)]
pub fn app() -> Html {
    let snapshot = use_state(Controller::initial_snapshot);
    let controller = {
        let setter = snapshot.setter();
        use_state(move || Controller::new(setter))
    };
    {
        let controller = Rc::clone(&controller);
        use_effect_with((), move |_| {
            controller.start();
            || ()
        });
    }
    let dispatch = {
        let controller = Rc::clone(&controller);
        Callback::from(move |action: Action| controller.dispatch(action))
    };
    html! { <AppView snapshot={Rc::clone(&snapshot)} {dispatch} /> }
}
