//! The root component and the `Controller` that connects the pure [`AppModel`] to the browser:
//! it runs the reducer for every [`Action`], carries out the returned [`Effect`]s through the
//! `signaling`, `media`, `local_tracks` and `peer` glue it owns, and publishes a [`ViewSnapshot`]
//! to Yew.
//!
//! Actions are queued, so an effect that dispatches synchronously never re-enters the reducer.
//! The effects on our own media and devices are carried out in `app/media_effects.rs`.

use crate::call_state::{Action, AppModel, CallAttempt, Effect, NegotiationRole, ViewerFeatures};
use crate::components::app_view;
use crate::devices::{saved_device_choices, saved_do_not_disturb, DeviceWatcher, LevelMeter};
use crate::errors::{IceTransportPolicyError, SignalingUrlError};
use crate::ice_diagnostics::IceTransportPolicy;
use crate::keyboard::KeyboardShortcuts;
use crate::local_tracks::LocalTracks;
use crate::page_exit::PageExitWatcher;
use crate::peer::{configured_ice_transport_policy, PeerSession};
use crate::ring_alerts::{ask_notification_permission, RingAlerts};
use crate::signaling::{configured_signaling_url, Dispatch, SignalingSocket};
use crate::viewer::{toggle_full_screen, toggle_picture_in_picture, viewer_features};
use gloo_timers::callback::{Interval, Timeout};
use protocol::IceServer;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use web_sys::MediaStream;
use yew::prelude::*;

mod media_effects;
mod recent_effects;
mod recovery_effects;
mod verification_deadline;

/// How often the list of people online is refreshed while idle, from a server whose `hello`
/// does not announce presence (one that does pushes every change: no timer then).
const ONLINE_USERS_REFRESH_MILLIS: u32 = 4_000;

/// Everything the view renders: the model plus the streams to attach to the videos.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewSnapshot {
    pub model: AppModel,
    pub local_stream: Option<MediaStream>,
    pub remote_stream: Option<MediaStream>,
    /// Bumped whenever remote tracks arrive (once for those of one task: `peer.rs`), so the remote
    /// video re-attaches its stream.
    pub remote_media_version: u32,
    /// Where we connect, or why the configured address is unusable.
    pub signaling_url: Result<String, SignalingUrlError>,
}

/// Owns the model, the browser resources of the current call, and the timers.
pub struct Controller {
    weak_self: Weak<Controller>,
    model: RefCell<AppModel>,
    queued_actions: RefCell<VecDeque<Action>>,
    processing_actions: Cell<bool>,
    signaling_url: Result<String, SignalingUrlError>,
    /// The diagnostic ICE transport policy; an unusable value fails each call in words.
    ice_transport_policy: Result<IceTransportPolicy, IceTransportPolicyError>,
    signaling: RefCell<Option<SignalingSocket>>,
    tracks: RefCell<LocalTracks>,
    /// The microphone level meter, while Settings is open.
    level_meter: Cell<Option<LevelMeter>>,
    /// `devicechange` reported as an action for the page's lifetime.
    device_watcher: Cell<Option<DeviceWatcher>>,
    /// The keyboard shortcuts' listener, for the page's lifetime.
    keyboard: Cell<Option<KeyboardShortcuts>>,
    /// `pagehide`: the call is hung up on the data channel as the page goes away.
    page_exit: Cell<Option<PageExitWatcher>>,
    peer: RefCell<Option<PeerSession>>,
    /// A ringing call's peer connection, its answer prepared (nothing sent), until Accept.
    prepared_peer: Cell<Option<PeerSession>>,
    remote_media_version: Cell<u32>,
    reconnect_timer: Cell<Option<Timeout>>,
    /// The current call's media recovery timer (disconnected grace, ICE restart backoff).
    recovery_timer: Cell<Option<Timeout>>,
    /// The grace period for the other side of a resumed call.
    resume_timer: Cell<Option<Timeout>>,
    online_users_timer: RefCell<Option<Interval>>,
    /// The Recent presence query's timer and what was stored (`app/recent_effects.rs`).
    recent_timers: RefCell<recent_effects::RecentTimers>,
    /// Turns a peer's missing reveal into a warning (`app/verification_deadline.rs`).
    verification_deadline_timer: RefCell<verification_deadline::VerificationDeadlineTimer>,
    /// The ringtone or ringback playing and the ringing notification shown.
    ring_alerts: RefCell<RingAlerts>,
    publish_snapshot: UseStateSetter<Rc<ViewSnapshot>>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Controller").field("model", &self.model.borrow()).finish_non_exhaustive()
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
            model: RefCell::new(AppModel::new()),
            queued_actions: RefCell::new(VecDeque::new()),
            processing_actions: Cell::new(false),
            signaling_url: configured_signaling_url(),
            ice_transport_policy: configured_ice_transport_policy(),
            signaling: RefCell::new(None),
            tracks: RefCell::new(LocalTracks::default()),
            level_meter: Cell::new(None),
            device_watcher: Cell::new(None),
            keyboard: Cell::new(None),
            page_exit: Cell::new(None),
            peer: RefCell::new(None),
            prepared_peer: Cell::new(None),
            remote_media_version: Cell::new(0),
            reconnect_timer: Cell::new(None),
            recovery_timer: Cell::new(None),
            resume_timer: Cell::new(None),
            online_users_timer: RefCell::new(None),
            recent_timers: RefCell::default(),
            verification_deadline_timer: RefCell::new(None),
            ring_alerts: RefCell::new(RingAlerts::default()),
            publish_snapshot,
        })
    }

    /// The first snapshot, before anything happened.
    pub fn initial_snapshot() -> Rc<ViewSnapshot> {
        Rc::new(ViewSnapshot {
            model: AppModel::new(),
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

    /// Starts the app: devices, shortcuts, saved choices and the connection.
    pub fn start(&self) {
        self.device_watcher.replace(Some(DeviceWatcher::start(self.dispatcher())));
        self.keyboard.replace(Some(KeyboardShortcuts::start(self.dispatcher())));
        self.page_exit.replace(Some(PageExitWatcher::start(self.dispatcher())));
        let (full_screen, picture_in_picture) = viewer_features();
        self.dispatch(Action::ViewerFeaturesDetected { features: ViewerFeatures { full_screen, picture_in_picture } });
        self.dispatch(Action::DeviceChoicesRestored { choices: saved_device_choices() });
        self.dispatch(Action::DoNotDisturbRestored { on: saved_do_not_disturb() });
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
            let effects = {
                let mut model = self.model.borrow_mut();
                model.set_clock_millis(recent_effects::now_millis());
                model.apply(action)
            };
            // Before the effects: a tone falls silent before the call that stopped it starts its
            // WebRTC work; its `AudioContext` is closed later (`ring_alerts.rs`: `close()` held
            // the main thread in front of the caller's setRemoteDescription in the web app
            // bench's traces, BENCHMARKS.md, the web app's notes).
            self.ring_alerts.borrow_mut().follow(&self.model.borrow());
            for effect in effects {
                self.carry_out(effect);
            }
        }
        self.processing_actions.set(false);
        self.follow_online_list_polling();
        self.follow_recent_timers();
        self.follow_verification_deadline();
        self.publish();
    }

    /// Keeps the online list's refresh timer only while the list is polled (signed in to a
    /// server without presence); a pushed list needs none.
    fn follow_online_list_polling(&self) {
        let polls = self.model.borrow().polls_online_list();
        let mut timer = self.online_users_timer.borrow_mut();
        if !polls {
            *timer = None;
        } else if timer.is_none() {
            let dispatch = self.dispatcher();
            *timer = Some(Interval::new(ONLINE_USERS_REFRESH_MILLIS, move || dispatch(Action::OnlineUsersRefreshDue)));
        }
    }

    fn publish(&self) {
        if let Some(document) = web_sys::window().and_then(|window| window.document()) {
            let title = self.model.borrow().page_title();
            if document.title() != title {
                document.set_title(&title);
            }
        }
        let remote_stream = self.peer.borrow().as_ref().and_then(PeerSession::remote_stream);
        self.publish_snapshot.set(Rc::new(ViewSnapshot {
            model: self.model.borrow().clone(),
            local_stream: self.tracks.borrow().preview(),
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
            Effect::StartOutgoingCall { call_attempt, ice_servers, video, role } => {
                if let Some(peer) = self.create_peer(call_attempt, role, &ice_servers, &dispatch) {
                    let tracks = self.tracks.borrow();
                    peer.start_offer(tracks.microphone(), tracks.video_track(video), dispatch);
                    self.peer.replace(Some(peer));
                }
            }
            Effect::PrepareIncomingCall { call_attempt, ice_servers, offer, role } => {
                // A failure here is not reported: Accept starts over and reports it then.
                let (listener, policy) = (self.remote_media_listener(), &self.ice_transport_policy);
                let prepared = PeerSession::create(call_attempt, role, &ice_servers, policy, dispatch, listener).ok();
                prepared.iter().for_each(|peer| peer.prepare_answer(&offer));
                self.prepared_peer.replace(prepared);
            }
            Effect::AnswerIncomingCall { call_attempt, ice_servers, video, offer, remote_candidates, role } => {
                let prepared = self.prepared_peer.take().filter(|peer| peer.call_attempt() == call_attempt);
                let prepared = prepared.filter(PeerSession::has_prepared_answer);
                let was_prepared = prepared.is_some();
                if let Some(peer) = prepared.or_else(|| self.create_peer(call_attempt, role, &ice_servers, &dispatch)) {
                    let tracks = self.tracks.borrow();
                    let local_tracks = (tracks.microphone().cloned(), tracks.video_track(video).cloned());
                    if was_prepared {
                        peer.answer_prepared_offer(&remote_candidates, local_tracks, dispatch);
                    } else {
                        peer.answer_offer(&offer, &remote_candidates, local_tracks, dispatch);
                    }
                    self.peer.replace(Some(peer));
                }
            }
            Effect::ApplyRemoteAnswer { call_attempt, answer, remote_candidates } => {
                if let Some(peer) = self.peer_of(call_attempt) {
                    peer.apply_answer(&answer, &remote_candidates, dispatch);
                }
            }
            effect @ (Effect::AnswerRenegotiationOffer { .. }
            | Effect::ApplyRenegotiationAnswer { .. }
            | Effect::RestartIce { .. }
            | Effect::UpdateIceServers { .. }
            | Effect::ScheduleRecoveryCheck { .. }
            | Effect::ScheduleResumeDeadline { .. }) => self.carry_out_recovery(effect),
            Effect::AddRemoteIceCandidate { call_attempt, candidate } => {
                if let Some(peer) = self.peer_of(call_attempt) {
                    peer.add_remote_candidate(&candidate);
                }
            }
            effect @ (Effect::AcquireLocalMedia(_)
            | Effect::SetMicrophoneEnabled { .. }
            | Effect::StartCamera { .. }
            | Effect::StopCamera
            | Effect::StartScreenShare
            | Effect::StopScreenShare
            | Effect::ShowVideoSource { .. }
            | Effect::ListDevices
            | Effect::SwitchCamera { .. }
            | Effect::SwitchMicrophone { .. }
            | Effect::SendMicrophone
            | Effect::SaveDeviceChoices { .. }
            | Effect::SaveDoNotDisturb { .. }
            | Effect::StartLevelMeter
            | Effect::StopLevelMeter) => self.carry_out_media(effect),
            Effect::LoadRecentCalls { storage_key } => self.load_recent_calls(storage_key),
            Effect::ToggleFullScreen => toggle_full_screen(),
            Effect::TogglePictureInPicture => toggle_picture_in_picture(),
            Effect::SampleStatsEverySecond { call_attempt } => {
                if let Some(peer) = self.peer_of(call_attempt) {
                    peer.sample_stats_every_second(dispatch);
                }
            }
            Effect::AskNotificationPermission => ask_notification_permission(),
            Effect::SendPeerMessage(message) => {
                if let Some(peer) = self.peer.borrow().as_ref() {
                    peer.send_peer_message(&message.encode());
                }
            }
            Effect::ReleasePeerConnection => {
                let released = (self.peer.borrow_mut().take(), self.prepared_peer.take());
                drop(released);
                self.recovery_timer.replace(None);
            }
        }
    }

    /// A new peer connection for `call_attempt`, or `None` once the reason it could not be
    /// created is dispatched.
    fn create_peer(
        &self,
        call_attempt: CallAttempt,
        role: NegotiationRole,
        ice_servers: &[IceServer],
        dispatch: &Dispatch,
    ) -> Option<PeerSession> {
        let listener = self.remote_media_listener();
        let policy = &self.ice_transport_policy;
        PeerSession::create(call_attempt, role, ice_servers, policy, dispatch.clone(), listener)
            .map_err(|error| dispatch(Action::PeerConnectionFailed { call_attempt, error }))
            .ok()
    }

    /// The peer connection of `call_attempt`, if it is the current one.
    fn peer_of(&self, call_attempt: CallAttempt) -> Option<std::cell::Ref<'_, PeerSession>> {
        std::cell::Ref::filter_map(self.peer.borrow(), |peer| {
            peer.as_ref().filter(|peer| peer.call_attempt() == call_attempt)
        })
        .ok()
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
    app_view(&snapshot, &dispatch)
}
