//! Browser glue for one call's `RTCPeerConnection`: creates it with the server's ICE servers and
//! the call's negotiated data channel (`data_channel.rs`), sets up one sendrecv audio and one
//! sendrecv video transceiver (`transceivers.rs`, so video can start later by `replaceTrack`),
//! runs offer/answer and every later renegotiation by perfect negotiation (`peer/negotiation.rs`:
//! ICE restarts, glare inside a call), applies remote candidates in order, and reports everything back as
//! [`Action`]s. Remote tracks are collected into one stream of ours, whatever streams the peer
//! named; the view hears of new ones once per task (both tracks of a description at once, so it
//! attaches the stream once). Dropping a [`PeerSession`] detaches and drops every event closure,
//! closes the data channel, stops the remote tracks and closes the connection, so the next call
//! in the same tab starts from nothing.
//!
//! SDP and candidates travel as the opaque JSON the protocol carries; their bodies are never
//! logged or shown.
//!
//! Offers and answers come with a fresh nonce (`crypto.getRandomValues`) for the verification
//! code; a new `RTCPeerConnection` per call means a new DTLS certificate per call in Chromium.
//!
//! Failures are reported as a typed [`PeerError`] (put in words by `errors.rs`).
//!
//! Statistics: a `StatsSampler` (`stats_sampler.rs`) reads `getStats()` every second until drop.
//!
//! Diagnostics (see `ice_diagnostics`): the configured `iceTransportPolicy` is applied, and a
//! second after the connection is `connected` the selected candidate pair is read from
//! `getStats()` and reported as [`Action::SelectedCandidatePairRead`]; the reducer keeps it until
//! the peer connection is released, and the components show it on the remote `<video>`.

use crate::call_state::{Action, CallAttempt, NegotiationRole, PeerConnectionState};
use crate::data_channel::PeerChannel;
use crate::errors::{BrowserException, IceTransportPolicyError, PeerError, PeerOperation};
use crate::ice_diagnostics::{selected_candidate_pair, IceTransportPolicy, ICE_TRANSPORT_POLICY_QUERY_PARAMETER};
use crate::media::stop_every_track;
use crate::signaling::Dispatch;
use crate::spawn::spawn;
use crate::stats_sampler::{report_entries, StatsSampler};
use crate::transceivers::replace_outgoing_track;
use gloo_timers::callback::Timeout;
use js_sys::{Reflect, JSON};
use negotiation::Negotiation;
use protocol::{IceCandidate, IceServer};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    Event, MediaStream, MediaStreamTrack, RtcConfiguration, RtcPeerConnection, RtcPeerConnectionIceEvent,
    RtcTrackEvent, UrlSearchParams,
};

mod negotiation;
mod prepared_answer;

/// Reads the diagnostic `?ice-transport-policy=` setting (`relay` or `all`, default `all`).
pub fn configured_ice_transport_policy() -> Result<IceTransportPolicy, IceTransportPolicyError> {
    let search = web_sys::window().and_then(|window| window.location().search().ok()).unwrap_or_default();
    let value =
        UrlSearchParams::new_with_str(&search).ok().and_then(|params| params.get(ICE_TRANSPORT_POLICY_QUERY_PARAMETER));
    IceTransportPolicy::from_query_value(value.as_deref())
}

/// A failed WebRTC operation, with the exception as the browser raised it.
fn browser_error(operation: PeerOperation, error: &JsValue) -> PeerError {
    let field = |name: &str| Reflect::get(error, &JsValue::from_str(name)).ok().and_then(|value| value.as_string());
    let exception = BrowserException { name: field("name"), message: field("message"), text: error.as_string() };
    PeerError::Browser { operation, exception }
}

fn parse_json(json: &str) -> Result<JsValue, PeerError> {
    JSON::parse(json).map_err(|_| PeerError::PayloadNotJson)
}

/// `RTCPeerConnection.connectionState`, `None` for a value this app does not know.
fn connection_state(connection: &RtcPeerConnection) -> Option<PeerConnectionState> {
    let state = Reflect::get(connection, &JsValue::from_str("connectionState")).ok()?.as_string()?;
    PeerConnectionState::from_browser(&state)
}

/// One call's peer connection and the closures it calls.
pub struct PeerSession {
    call_attempt: CallAttempt,
    connection: RtcPeerConnection,
    channel: PeerChannel,
    /// Every remote track, in one stream the remote video shows.
    remote_stream: MediaStream,
    /// True once a remote track arrived and the view was told (`RemoteMediaNotice`).
    has_remote_tracks: Rc<Cell<bool>>,
    on_ice_candidate: Closure<dyn FnMut(RtcPeerConnectionIceEvent)>,
    on_track: Closure<dyn FnMut(RtcTrackEvent)>,
    on_connection_state_change: Closure<dyn FnMut(Event)>,
    /// Offers once the call is established (perfect negotiation, `peer/negotiation.rs`).
    on_negotiation_needed: Closure<dyn FnMut(Event)>,
    negotiation: Rc<Negotiation>,
    /// Reads `getStats()` every second once the call is connected (stopped on drop).
    stats_sampler: RefCell<Option<StatsSampler>>,
    /// The pending "remote media changed" call (cancelled on drop).
    remote_media_notice: RemoteMediaNotice,
    /// Callee side: the answer prepared while the call rang, until Accept (`peer/prepared_answer.rs`).
    prepared_answer: RefCell<Option<prepared_answer::PreparedAnswer>>,
}

/// Calls `on_remote_media_changed` once for all the `track` events of one task: the browser
/// fires the audio and the video track's events together when a description is applied, and
/// each call makes the view re-attach the remote stream to its `<video>` (a new media player
/// each time, on the call's critical path); once, after both, the stream has both tracks.
#[derive(Clone, Default)]
struct RemoteMediaNotice {
    pending: Rc<Cell<bool>>,
    timer: Rc<RefCell<Option<Timeout>>>,
}

impl RemoteMediaNotice {
    fn after_this_task(&self, on_remote_media_changed: &Rc<dyn Fn()>) {
        if self.pending.replace(true) {
            return;
        }
        let (pending, on_remote_media_changed) = (Rc::clone(&self.pending), Rc::clone(on_remote_media_changed));
        // Replacing drops the previous timeout, which has run already (`pending` was false).
        self.timer.replace(Some(Timeout::new(0, move || {
            pending.set(false);
            on_remote_media_changed();
        })));
    }
}

impl std::fmt::Debug for PeerSession {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("PeerSession").field("call_attempt", &self.call_attempt).finish_non_exhaustive()
    }
}

impl PeerSession {
    /// Creates the peer connection and wires its events. `on_remote_media_changed` is called
    /// whenever a remote track arrives, so the view can (re)attach the remote video.
    /// `ice_transport_policy` is the diagnostic setting (an unusable value fails the call in words).
    /// `role` is this side's in perfect negotiation (the caller impolite, the callee polite).
    pub fn create(
        call_attempt: CallAttempt,
        role: NegotiationRole,
        ice_servers: &[IceServer],
        ice_transport_policy: &Result<IceTransportPolicy, IceTransportPolicyError>,
        dispatch: Dispatch,
        on_remote_media_changed: Rc<dyn Fn()>,
    ) -> Result<PeerSession, PeerError> {
        let ice_transport_policy = ice_transport_policy.clone().map_err(PeerError::IceTransportPolicy)?;
        let configuration = RtcConfiguration::new();
        let ice_servers_json = IceServer::list_to_json(ice_servers);
        // Our own JSON, so it always parses; were it not to, the words would be those of a bad
        // payload, as they always were.
        configuration.set_ice_servers(&parse_json(&ice_servers_json)?);
        Reflect::set(
            &configuration,
            &JsValue::from_str("iceTransportPolicy"),
            &JsValue::from_str(ice_transport_policy.as_str()),
        )
        .map_err(|error| browser_error(PeerOperation::SetIceTransportPolicy, &error))?;
        let connection = RtcPeerConnection::new_with_configuration(&configuration)
            .map_err(|error| browser_error(PeerOperation::CreatePeerConnection, &error))?;
        let remote_stream =
            MediaStream::new().map_err(|error| browser_error(PeerOperation::CreateRemoteStream, &error))?;
        let has_remote_tracks = Rc::new(Cell::new(false));
        // Before any offer or answer, on both sides: the channel is part of the first negotiation.
        let channel = PeerChannel::create(&connection, call_attempt, dispatch.clone());

        let on_ice_candidate = {
            let dispatch = dispatch.clone();
            Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new(move |event: RtcPeerConnectionIceEvent| {
                // `null` (end of candidates) is not forwarded: trickle needs no end marker here.
                let Some(candidate) = event.candidate() else { return };
                if candidate.candidate().is_empty() {
                    return;
                }
                let Some(json) = JSON::stringify(&candidate).ok().and_then(|text| text.as_string()) else { return };
                if let Ok(candidate) = IceCandidate::from_json(json) {
                    dispatch(Action::LocalIceCandidateGathered { call_attempt, candidate });
                }
            })
        };
        connection.set_onicecandidate(Some(on_ice_candidate.as_ref().unchecked_ref()));

        let remote_media_notice = RemoteMediaNotice::default();
        // The stream is shown from the notice on, with the new version: were it shown as soon
        // as a track arrived, a render in between (any action) would attach it once with the old
        // version and the notice again with the new one, a second media player on the caller
        // just before its first frame (BENCHMARKS.md, the web app's notes).
        let on_remote_media_changed: Rc<dyn Fn()> = {
            let has_remote_tracks = has_remote_tracks.clone();
            Rc::new(move || {
                has_remote_tracks.set(true);
                on_remote_media_changed();
            })
        };
        let on_track = {
            // `Clone::clone`: `MediaStream::clone` would be the JavaScript method, a new stream.
            let remote_stream = Clone::clone(&remote_stream);
            let notice = remote_media_notice.clone();
            Closure::<dyn FnMut(RtcTrackEvent)>::new(move |event: RtcTrackEvent| {
                // The receiver's track stays the same for the whole call, whatever the peer
                // sends on it later (camera, screen, nothing): one stream holds them all.
                remote_stream.add_track(&event.track());
                notice.after_this_task(&on_remote_media_changed);
            })
        };
        connection.set_ontrack(Some(on_track.as_ref().unchecked_ref()));

        let negotiation = Negotiation::new(role);
        let on_negotiation_needed =
            negotiation::on_negotiation_needed(&connection, &negotiation, call_attempt, dispatch.clone());
        connection.set_onnegotiationneeded(Some(on_negotiation_needed.as_ref().unchecked_ref()));

        let on_connection_state_change = {
            let connection = connection.clone();
            Closure::<dyn FnMut(Event)>::new(move |_event: Event| {
                let Some(state) = connection_state(&connection) else { return };
                if state == PeerConnectionState::Connected {
                    read_selected_candidate_pair(&connection, call_attempt, dispatch.clone());
                }
                dispatch(Action::PeerConnectionStateChanged { call_attempt, state });
            })
        };
        connection.set_onconnectionstatechange(Some(on_connection_state_change.as_ref().unchecked_ref()));

        Ok(PeerSession {
            call_attempt,
            connection,
            channel,
            remote_stream,
            has_remote_tracks,
            on_ice_candidate,
            on_track,
            on_connection_state_change,
            on_negotiation_needed,
            negotiation,
            stats_sampler: RefCell::new(None),
            remote_media_notice,
            prepared_answer: RefCell::new(None),
        })
    }

    /// Reads the call's statistics every second from now on, until this session is dropped.
    pub fn sample_stats_every_second(&self, dispatch: Dispatch) {
        let sampler = StatsSampler::start(&self.connection, self.call_attempt, dispatch);
        self.stats_sampler.replace(Some(sampler));
    }

    pub fn call_attempt(&self) -> CallAttempt {
        self.call_attempt
    }

    /// The stream to show in the remote video, once a remote track arrived.
    pub fn remote_stream(&self) -> Option<MediaStream> {
        self.has_remote_tracks.get().then(|| Clone::clone(&self.remote_stream))
    }

    /// Sends a frame on the call's data channel.
    pub fn send_peer_message(&self, text: &str) {
        self.channel.send(text);
    }

    /// Sends `track` (or silence) on the audio transceiver from now on.
    pub fn send_audio(&self, track: Option<&MediaStreamTrack>) {
        replace_outgoing_track(&self.connection, "audio", track);
    }

    /// Sends `track` (or no video) on the video transceiver from now on.
    pub fn send_video(&self, track: Option<&MediaStreamTrack>) {
        replace_outgoing_track(&self.connection, "video", track);
    }

    /// Gives the running call refreshed ICE servers (`setConfiguration` with the connection's
    /// own configuration, only `iceServers` replaced: the `iceTransportPolicy` stays), so an ICE
    /// restart after a TURN credential refresh still finds the relay.
    pub fn update_ice_servers(&self, ice_servers: &[IceServer]) {
        let Ok(servers) = parse_json(&IceServer::list_to_json(ice_servers)) else { return };
        let configuration = self.connection.get_configuration();
        configuration.set_ice_servers(&servers);
        // Refused only for a configuration the browser cannot take: the old servers stay.
        let _ = self.connection.set_configuration_with_configuration(&configuration);
    }
}

/// Reads the selected candidate pair from `getStats()` and reports it as
/// [`Action::SelectedCandidatePairRead`] (the components show it on the remote video), starting
/// [`FIRST_READ_MILLIS`] after `connected`: then the first frames have usually arrived, and the
/// report (built on the WebRTC threads, read into Rust on the main thread) no longer competes
/// with them (BENCHMARKS.md, the web app's notes). Retries a few times while the report names no
/// pair yet; reports nothing once the connection is no longer `connected` (e.g. the call ended
/// meanwhile).
fn read_selected_candidate_pair(connection: &RtcPeerConnection, call_attempt: CallAttempt, dispatch: Dispatch) {
    const ATTEMPTS: u32 = 10;
    const RETRY_MILLIS: u32 = 300;
    let connection = connection.clone();
    spawn(async move {
        gloo_timers::future::TimeoutFuture::new(FIRST_READ_MILLIS).await;
        let still_connected = || connection_state(&connection) == Some(PeerConnectionState::Connected);
        for attempt in 1..=ATTEMPTS {
            if !still_connected() {
                return;
            }
            let Some(entries) = report_entries(&connection).await else { return };
            if let Some(pair) = selected_candidate_pair(&entries) {
                if still_connected() {
                    dispatch(Action::SelectedCandidatePairRead { call_attempt, pair });
                }
                return;
            }
            if attempt < ATTEMPTS {
                gloo_timers::future::TimeoutFuture::new(RETRY_MILLIS).await;
            }
        }
    });
}

/// How long after `connected` the selected candidate pair is first read.
const FIRST_READ_MILLIS: u32 = 1_000;

impl Drop for PeerSession {
    fn drop(&mut self) {
        self.connection.set_onicecandidate(None);
        self.connection.set_ontrack(None);
        self.connection.set_onconnectionstatechange(None);
        self.connection.set_onnegotiationneeded(None);
        self.stats_sampler.take();
        self.remote_media_notice.timer.take();
        stop_every_track(&self.remote_stream);
        self.connection.close();
        // The closures (`on_ice_candidate`, `on_track`, `on_connection_state_change`) and the
        // data channel (which detaches its own) are dropped with `self` right after this, now
        // that nothing references them.
        let _ = (&self.on_ice_candidate, &self.on_track, &self.on_connection_state_change, &self.on_negotiation_needed);
    }
}
