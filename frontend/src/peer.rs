//! Browser glue for one call's `RTCPeerConnection`: creates it with the server's ICE servers,
//! adds our tracks (recvonly transceivers where we have none), runs offer/answer, applies remote
//! candidates in order, and reports everything back as [`Action`]s. Dropping a [`PeerSession`]
//! detaches and drops every event closure, stops the remote tracks and closes the connection,
//! so the next call in the same tab starts from nothing.
//!
//! SDP and candidates travel as the opaque JSON the protocol carries; their bodies are never
//! logged or shown.
//!
//! Diagnostics (see `ice_diagnostics`): the configured `iceTransportPolicy` is applied, and once
//! the connection is `connected` the candidate types of the selected pair are read from
//! `getStats()` and set as `data-selected-candidate-type` / `data-selected-remote-candidate-type`
//! on the remote `<video>` (strings only; removed again when the session ends).

use crate::call_state::{Action, CallId};
use crate::ice_diagnostics::{
    selected_candidate_pair, IceTransportPolicy, LOCAL_CANDIDATE_TYPE_ATTRIBUTE, REMOTE_CANDIDATE_TYPE_ATTRIBUTE,
};
use crate::media::{stop_every_track, tracks_of};
use crate::signaling::Dispatch;
use js_sys::{Reflect, JSON};
use protocol::{IceCandidate, IceServer, SessionDescription};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    Event, MediaStream, MediaStreamTrack, RtcConfiguration, RtcIceCandidateInit, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcSessionDescriptionInit,
    RtcTrackEvent,
};

/// Longest error detail shown to people (browser messages can quote SDP lines).
const MAX_ERROR_DETAIL_CHARS: usize = 120;

/// Words for a failed WebRTC operation: the exception name and the start of its message.
pub fn describe_js_error(operation: &str, error: &JsValue) -> String {
    let name = Reflect::get(error, &JsValue::from_str("name")).ok().and_then(|value| value.as_string());
    let message = Reflect::get(error, &JsValue::from_str("message")).ok().and_then(|value| value.as_string());
    let mut detail = match (name, message) {
        (Some(name), Some(message)) => format!("{name}: {}", message.lines().next().unwrap_or_default()),
        (Some(name), None) => name,
        (None, _) => error.as_string().unwrap_or_else(|| "unknown error".to_owned()),
    };
    if detail.chars().count() > MAX_ERROR_DETAIL_CHARS {
        detail = detail.chars().take(MAX_ERROR_DETAIL_CHARS).collect::<String>() + "…";
    }
    format!("{operation} failed ({detail})")
}

fn parse_json(json: &str) -> Result<JsValue, String> {
    JSON::parse(json).map_err(|_| "the peer sent a payload that is not JSON".to_owned())
}

/// One call's peer connection and the closures it calls.
pub struct PeerSession {
    call_id: CallId,
    connection: RtcPeerConnection,
    /// Where remote tracks are collected when the sender attached them to no stream.
    fallback_remote_stream: MediaStream,
    remote_stream: Rc<std::cell::RefCell<Option<MediaStream>>>,
    on_ice_candidate: Closure<dyn FnMut(RtcPeerConnectionIceEvent)>,
    on_track: Closure<dyn FnMut(RtcTrackEvent)>,
    on_connection_state_change: Closure<dyn FnMut(Event)>,
}

impl std::fmt::Debug for PeerSession {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "PeerSession {{ call_id: {} }}", self.call_id)
    }
}

impl PeerSession {
    /// Creates the peer connection and wires its events. `on_remote_media_changed` is called
    /// whenever a remote track arrives, so the view can (re)attach the remote video.
    /// `ice_transport_policy` is the diagnostic setting (an unusable value fails the call in words).
    pub fn create(
        call_id: CallId,
        ice_servers: &[IceServer],
        ice_transport_policy: &Result<IceTransportPolicy, String>,
        dispatch: Dispatch,
        on_remote_media_changed: Rc<dyn Fn()>,
    ) -> Result<PeerSession, String> {
        let ice_transport_policy = ice_transport_policy.clone()?;
        let configuration = RtcConfiguration::new();
        let ice_servers_json = serde_json::to_string(ice_servers).map_err(|error| error.to_string())?;
        configuration.set_ice_servers(&parse_json(&ice_servers_json)?);
        Reflect::set(
            &configuration,
            &JsValue::from_str("iceTransportPolicy"),
            &JsValue::from_str(ice_transport_policy.as_str()),
        )
        .map_err(|error| describe_js_error("Setting the ICE transport policy", &error))?;
        let connection = RtcPeerConnection::new_with_configuration(&configuration)
            .map_err(|error| describe_js_error("Creating the peer connection", &error))?;
        let fallback_remote_stream =
            MediaStream::new().map_err(|error| describe_js_error("Creating the remote stream", &error))?;
        let remote_stream = Rc::new(std::cell::RefCell::new(None::<MediaStream>));

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
                    dispatch(Action::LocalIceCandidateGathered { call_id, candidate });
                }
            })
        };
        connection.set_onicecandidate(Some(on_ice_candidate.as_ref().unchecked_ref()));

        let on_track = {
            let fallback_remote_stream = fallback_remote_stream.clone();
            let remote_stream = remote_stream.clone();
            Closure::<dyn FnMut(RtcTrackEvent)>::new(move |event: RtcTrackEvent| {
                let stream = event.streams().get(0).dyn_into::<MediaStream>().unwrap_or_else(|_| {
                    fallback_remote_stream.add_track(&event.track());
                    fallback_remote_stream.clone()
                });
                remote_stream.replace(Some(stream));
                on_remote_media_changed();
            })
        };
        connection.set_ontrack(Some(on_track.as_ref().unchecked_ref()));

        let on_connection_state_change = {
            let connection = connection.clone();
            Closure::<dyn FnMut(Event)>::new(move |_event: Event| {
                let state = Reflect::get(&connection, &JsValue::from_str("connectionState"))
                    .ok()
                    .and_then(|value| value.as_string())
                    .unwrap_or_else(|| "unknown".to_owned());
                if state == "connected" {
                    show_selected_candidate_pair(&connection);
                }
                dispatch(Action::PeerConnectionStateChanged { call_id, state });
            })
        };
        connection.set_onconnectionstatechange(Some(on_connection_state_change.as_ref().unchecked_ref()));

        Ok(PeerSession {
            call_id,
            connection,
            fallback_remote_stream,
            remote_stream,
            on_ice_candidate,
            on_track,
            on_connection_state_change,
        })
    }

    pub fn call_id(&self) -> CallId {
        self.call_id
    }

    /// The stream to show in the remote video, once a remote track arrived.
    pub fn remote_stream(&self) -> Option<MediaStream> {
        self.remote_stream.borrow().clone()
    }

    /// Adds our tracks; for a kind we have no track of, a recvonly transceiver when
    /// `receive_missing_kinds` (the caller's side: the offer must ask for audio and video).
    fn add_local_tracks(
        connection: &RtcPeerConnection,
        local_media: Option<&MediaStream>,
        receive_missing_kinds: bool,
    ) {
        let tracks: Vec<MediaStreamTrack> = local_media.map(tracks_of).unwrap_or_default();
        for kind in ["audio", "video"] {
            let mut has_kind = false;
            if let Some(stream) = local_media {
                for track in tracks.iter().filter(|track| track.kind() == kind) {
                    connection.add_track_0(track, stream);
                    has_kind = true;
                }
            }
            if !has_kind && receive_missing_kinds {
                let init = RtcRtpTransceiverInit::new();
                init.set_direction(RtcRtpTransceiverDirection::Recvonly);
                connection.add_transceiver_with_str_and_init(kind, &init);
            }
        }
    }

    /// Caller side: tracks, offer, local description, then [`Action::LocalOfferCreated`].
    pub fn start_offer(&self, local_media: Option<&MediaStream>, dispatch: Dispatch) {
        Self::add_local_tracks(&self.connection, local_media, true);
        let connection = self.connection.clone();
        let call_id = self.call_id;
        spawn_local(async move {
            let result: Result<String, String> = async {
                let offer = JsFuture::from(connection.create_offer())
                    .await
                    .map_err(|error| describe_js_error("Creating the offer", &error))?;
                let offer: RtcSessionDescriptionInit = offer.unchecked_into();
                JsFuture::from(connection.set_local_description(&offer))
                    .await
                    .map_err(|error| describe_js_error("Setting the local offer", &error))?;
                local_description_json(&connection)
            }
            .await;
            match result.and_then(|json| SessionDescription::from_json(json).map_err(|error| error.to_string())) {
                Ok(offer) => dispatch(Action::LocalOfferCreated { call_id, offer }),
                Err(detail) => dispatch(Action::PeerConnectionFailed { call_id, detail }),
            }
        });
    }

    /// Callee side (and renegotiation): apply `offer`, then every candidate that waited for it,
    /// in this order; then add our tracks (when `local_media` is given), answer, and report
    /// [`Action::LocalAnswerCreated`].
    pub fn answer_offer(
        &self,
        offer: &SessionDescription,
        waiting_candidates: &[IceCandidate],
        local_media: Option<MediaStream>,
        add_local_media: bool,
        dispatch: Dispatch,
    ) {
        let call_id = self.call_id;
        let offer_init = match parse_json(offer.as_json()) {
            Ok(value) => value.unchecked_into::<RtcSessionDescriptionInit>(),
            Err(detail) => {
                dispatch(Action::PeerConnectionFailed { call_id, detail });
                return;
            }
        };
        // Both calls go on the peer connection's operations chain now, so the candidates are
        // applied after the offer, whatever arrives meanwhile.
        let remote_description_applied = JsFuture::from(self.connection.set_remote_description(&offer_init));
        for candidate in waiting_candidates {
            self.add_remote_candidate(candidate);
        }
        let connection = self.connection.clone();
        spawn_local(async move {
            let result: Result<String, String> = async {
                remote_description_applied
                    .await
                    .map_err(|error| describe_js_error("Applying the caller's offer", &error))?;
                if add_local_media {
                    // After the remote offer, addTrack reuses the transceivers it created.
                    Self::add_local_tracks(&connection, local_media.as_ref(), false);
                }
                let answer = JsFuture::from(connection.create_answer())
                    .await
                    .map_err(|error| describe_js_error("Creating the answer", &error))?;
                let answer: RtcSessionDescriptionInit = answer.unchecked_into();
                JsFuture::from(connection.set_local_description(&answer))
                    .await
                    .map_err(|error| describe_js_error("Setting the local answer", &error))?;
                local_description_json(&connection)
            }
            .await;
            match result.and_then(|json| SessionDescription::from_json(json).map_err(|error| error.to_string())) {
                Ok(answer) => dispatch(Action::LocalAnswerCreated { call_id, answer }),
                Err(detail) => dispatch(Action::PeerConnectionFailed { call_id, detail }),
            }
        });
    }

    /// Caller side: the callee's answer, then the candidates that waited for it, in order.
    pub fn apply_answer(&self, answer: &SessionDescription, waiting_candidates: &[IceCandidate], dispatch: Dispatch) {
        let call_id = self.call_id;
        let answer_init = match parse_json(answer.as_json()) {
            Ok(value) => value.unchecked_into::<RtcSessionDescriptionInit>(),
            Err(detail) => {
                dispatch(Action::PeerConnectionFailed { call_id, detail });
                return;
            }
        };
        let applied = JsFuture::from(self.connection.set_remote_description(&answer_init));
        for candidate in waiting_candidates {
            self.add_remote_candidate(candidate);
        }
        spawn_local(async move {
            if let Err(error) = applied.await {
                dispatch(Action::PeerConnectionFailed {
                    call_id,
                    detail: describe_js_error("Applying the answer", &error),
                });
            }
        });
    }

    /// One trickled candidate from the peer. A candidate the browser rejects is not fatal (ICE
    /// may still succeed with the others), so failures are ignored.
    pub fn add_remote_candidate(&self, candidate: &IceCandidate) {
        let Ok(candidate_init) = parse_json(candidate.as_json()) else { return };
        if candidate_init.is_null() {
            return;
        }
        let candidate_init: RtcIceCandidateInit = candidate_init.unchecked_into();
        let added =
            JsFuture::from(self.connection.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&candidate_init)));
        spawn_local(async move {
            let _ = added.await;
        });
    }
}

fn remote_video() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.query_selector("video[aria-label=\"Remote video\"]").ok().flatten()
}

/// Reads the selected candidate pair from `getStats()` and shows its candidate types as
/// attributes of the remote video (see the module documentation). Retries a few times while
/// the report names no pair yet; shows nothing once the connection is no longer `connected`
/// (e.g. the call ended meanwhile).
fn show_selected_candidate_pair(connection: &RtcPeerConnection) {
    const ATTEMPTS: u32 = 10;
    const RETRY_MILLIS: u32 = 300;
    let connection = connection.clone();
    spawn_local(async move {
        for attempt in 1..=ATTEMPTS {
            let still_connected = || {
                Reflect::get(&connection, &JsValue::from_str("connectionState"))
                    .ok()
                    .and_then(|value| value.as_string())
                    .is_some_and(|state| state == "connected")
            };
            if !still_connected() {
                return;
            }
            let Ok(report) = JsFuture::from(connection.get_stats()).await else { return };
            let mut entries = Vec::new();
            if let Ok(Some(iterator)) = js_sys::try_iter(&report) {
                for entry in iterator.flatten() {
                    // Each entry of the maplike report is `[id, stats]`.
                    let stats = Reflect::get(&entry, &JsValue::from_f64(1.0)).unwrap_or(JsValue::UNDEFINED);
                    let json = JSON::stringify(&stats).ok().and_then(|text| text.as_string());
                    if let Some(value) = json.and_then(|json| serde_json::from_str::<serde_json::Value>(&json).ok()) {
                        entries.push(value);
                    }
                }
            }
            if let Some(pair) = selected_candidate_pair(&entries) {
                if let (true, Some(video)) = (still_connected(), remote_video()) {
                    let _ = video.set_attribute(LOCAL_CANDIDATE_TYPE_ATTRIBUTE, &pair.local_type);
                    let _ = video.set_attribute(REMOTE_CANDIDATE_TYPE_ATTRIBUTE, &pair.remote_type);
                }
                return;
            }
            if attempt < ATTEMPTS {
                gloo_timers::future::TimeoutFuture::new(RETRY_MILLIS).await;
            }
        }
    });
}

/// `{"type":"offer","sdp":"..."}` of the connection's current local description.
fn local_description_json(connection: &RtcPeerConnection) -> Result<String, String> {
    let description = connection.local_description().ok_or("the browser produced no local description")?;
    JSON::stringify(&description)
        .ok()
        .and_then(|text| text.as_string())
        .ok_or_else(|| "the local description could not be encoded".to_owned())
}

impl Drop for PeerSession {
    fn drop(&mut self) {
        self.connection.set_onicecandidate(None);
        self.connection.set_ontrack(None);
        self.connection.set_onconnectionstatechange(None);
        if let Some(stream) = self.remote_stream.borrow_mut().take() {
            stop_every_track(&stream);
        }
        stop_every_track(&self.fallback_remote_stream);
        self.connection.close();
        if let Some(video) = remote_video() {
            let _ = video.remove_attribute(LOCAL_CANDIDATE_TYPE_ATTRIBUTE);
            let _ = video.remove_attribute(REMOTE_CANDIDATE_TYPE_ATTRIBUTE);
        }
        // The closures (`on_ice_candidate`, `on_track`, `on_connection_state_change`) are
        // dropped with `self` right after this, now that nothing references them.
        let _ = (&self.on_ice_candidate, &self.on_track, &self.on_connection_state_change);
    }
}
