//! Offer/answer for one call's `RTCPeerConnection`: the first exchange (the caller's explicit
//! offer, the callee's answer with its tracks) and, once it is done, **perfect negotiation**
//! (the W3C pattern) for every later one: `negotiationneeded` (an ICE restart, `restartIce()`)
//! makes an offer; an offer from the peer that collides with ours is ignored by the impolite side
//! (the caller) and applied by the polite side (the callee) (`makingOffer`, `ignoreOffer`,
//! `isSettingRemoteAnswerPending` as in the pattern). The role comes from the reducer
//! ([`NegotiationRole`]); each collision is reported as [`Action::OfferCollided`].
//!
//! **The polite side never rolls back.** Chromium 156 stops delivering the peer's video to the
//! receiver's track once a local offer has been rolled back (explicitly or implicitly: frames are
//! still decoded, the track stays live and unmuted, the `<video>` freezes for good; reproduced
//! with two bare `RTCPeerConnection`s in one page, no app code: it is not the app's stream). So
//! the polite side only creates its offer (`createOffer`), sends it and keeps it *unapplied*; it
//! becomes the local description when its answer arrives (`setLocalDescription(offer)` then
//! `setRemoteDescription(answer)`, queued together on the operations chain, so the candidates
//! that follow apply after both). A colliding offer from the peer finds the polite side `stable`:
//! the unapplied offer is dropped and the peer's applied, no rollback. The impolite side makes its
//! offers with `setLocalDescription()` as in the pattern (it never rolls back either).
//!
//! A renegotiation that fails is not fatal: the call goes on with the path it has, and the
//! reducer's ICE restart backoff tries again while the media is lost.

use super::{browser_error, parse_json, PeerSession};
use crate::call_state::{Action, CallAttempt, NegotiationRole};
use crate::errors::{PeerError, PeerOperation};
use crate::signaling::Dispatch;
use crate::spawn::spawn;
use crate::text_search::contains_text;
use crate::transceivers::{add_sendrecv_transceivers, answer_with_sendrecv_transceivers};
use crate::verification::Nonce;
use js_sys::{Function, Promise, Reflect, JSON};
use protocol::{IceCandidate, SessionDescription};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Event, MediaStreamTrack, RtcIceCandidateInit, RtcPeerConnection, RtcSessionDescriptionInit, RtcSignalingState,
};

/// Perfect negotiation's state for one peer connection (shared with its `negotiationneeded` closure).
#[derive(Debug)]
pub(super) struct Negotiation {
    polite: bool,
    making_offer: Cell<bool>,
    ignore_offer: Cell<bool>,
    setting_remote_answer_pending: Cell<bool>,
    /// The first offer/answer exchange is done: from now on `negotiationneeded` makes offers.
    pub(super) established: Cell<bool>,
    /// Polite side: our offer, created and sent, set as local description only with its answer.
    unapplied_offer: RefCell<Option<JsValue>>,
    /// Polite side: the peer's offers applied so far (an offer of ours created meanwhile is stale).
    remote_offers_applied: Cell<u32>,
}

impl Negotiation {
    pub(super) fn new(role: NegotiationRole) -> Rc<Negotiation> {
        Rc::new(Negotiation {
            polite: role.is_polite(),
            making_offer: Cell::new(false),
            ignore_offer: Cell::new(false),
            setting_remote_answer_pending: Cell::new(false),
            established: Cell::new(false),
            unapplied_offer: RefCell::new(None),
            remote_offers_applied: Cell::new(0),
        })
    }
}

/// The `negotiationneeded` listener: once the call is established, an offer made by
/// `setLocalDescription()` and reported as [`Action::LocalOfferCreated`] (the reducer sends it).
pub(super) fn on_negotiation_needed(
    connection: &RtcPeerConnection,
    negotiation: &Rc<Negotiation>,
    call_attempt: CallAttempt,
    dispatch: Dispatch,
) -> Closure<dyn FnMut(Event)> {
    let connection = connection.clone();
    let negotiation = Rc::clone(negotiation);
    Closure::<dyn FnMut(Event)>::new(move |_event: Event| {
        if !negotiation.established.get() {
            return;
        }
        if negotiation.polite {
            create_unapplied_offer(&connection, &negotiation, call_attempt, dispatch.clone());
            return;
        }
        negotiation.making_offer.set(true);
        let (connection, negotiation, dispatch) = (connection.clone(), Rc::clone(&negotiation), dispatch.clone());
        spawn(async move {
            let description = set_implicit_local_description(&connection).await;
            negotiation.making_offer.set(false);
            if let Ok(description) = description {
                report_local_description(call_attempt, description, &dispatch);
            }
        });
    })
}

/// Polite side: creates an offer and reports it without applying it (see the module's
/// documentation); at most one at a time, dropped if the peer's offer was applied meanwhile (the
/// browser asks again with `negotiationneeded` if it still needs one).
fn create_unapplied_offer(
    connection: &RtcPeerConnection,
    negotiation: &Rc<Negotiation>,
    call_attempt: CallAttempt,
    dispatch: Dispatch,
) {
    if negotiation.making_offer.get() || negotiation.unapplied_offer.borrow().is_some() {
        return;
    }
    negotiation.making_offer.set(true);
    let offers_applied_before = negotiation.remote_offers_applied.get();
    let (connection, negotiation) = (connection.clone(), Rc::clone(negotiation));
    spawn(async move {
        let offer = JsFuture::from(connection.create_offer()).await;
        negotiation.making_offer.set(false);
        let Ok(offer) = offer else { return };
        if negotiation.remote_offers_applied.get() != offers_applied_before
            || connection.signaling_state() != RtcSignalingState::Stable
        {
            return;
        }
        let Ok(description) = description_from_browser(&offer) else { return };
        negotiation.unapplied_offer.replace(Some(offer));
        report_local_description(call_attempt, description, &dispatch);
    });
}

impl PeerSession {
    /// Caller side: the transceivers with our tracks, the offer, the local description, then
    /// [`Action::LocalOfferCreated`].
    pub fn start_offer(&self, audio: Option<&MediaStreamTrack>, video: Option<&MediaStreamTrack>, dispatch: Dispatch) {
        add_sendrecv_transceivers(&self.connection, audio, video);
        let connection = self.connection.clone();
        let call_attempt = self.call_attempt;
        spawn(async move {
            let offer = set_local_description(
                &connection,
                connection.create_offer(),
                PeerOperation::CreateOffer,
                PeerOperation::SetLocalOffer,
            )
            .await;
            dispatch(match offer.and_then(|offer| Ok((offer, fresh_nonce()?))) {
                Ok((offer, nonce)) => Action::LocalOfferCreated { call_attempt, offer, nonce },
                Err(error) => Action::PeerConnectionFailed { call_attempt, error },
            });
        });
    }

    /// Callee side, the call's first offer: apply it, then every candidate that waited for it,
    /// in this order; make the transceivers sendrecv with our tracks (either possibly none;
    /// `replaceTrack` runs alongside the answer's creation, not before it); answer, and report
    /// [`Action::LocalAnswerCreated`] once the tracks are set too.
    pub fn answer_offer(
        &self,
        offer: &SessionDescription,
        waiting_candidates: &[IceCandidate],
        local_tracks: (Option<MediaStreamTrack>, Option<MediaStreamTrack>),
        dispatch: Dispatch,
    ) {
        let call_attempt = self.call_attempt;
        let Some(remote_description_applied) = self.apply_remote_description(offer, waiting_candidates, &dispatch)
        else {
            return;
        };
        let connection = self.connection.clone();
        let negotiation = Rc::clone(&self.negotiation);
        spawn(async move {
            let answer = async {
                remote_description_applied
                    .await
                    .map_err(|error| browser_error(PeerOperation::ApplyCallersOffer, &error))?;
                let (audio, video) = local_tracks;
                let tracks_set = answer_with_sendrecv_transceivers(&connection, audio, video);
                let answer = set_local_description(
                    &connection,
                    connection.create_answer(),
                    PeerOperation::CreateAnswer,
                    PeerOperation::SetLocalAnswer,
                )
                .await;
                tracks_set.await;
                answer
            }
            .await;
            negotiation.established.set(answer.is_ok());
            dispatch(match answer.and_then(|answer| Ok((answer, fresh_nonce()?))) {
                Ok((answer, nonce)) => Action::LocalAnswerCreated { call_attempt, answer, nonce },
                Err(error) => Action::PeerConnectionFailed { call_attempt, error },
            });
        });
    }

    /// Caller side: the callee's answer, then the candidates that waited for it, in order.
    pub fn apply_answer(&self, answer: &SessionDescription, waiting_candidates: &[IceCandidate], dispatch: Dispatch) {
        let call_attempt = self.call_attempt;
        let Some(applied) = self.apply_remote_description(answer, waiting_candidates, &dispatch) else { return };
        let negotiation = Rc::clone(&self.negotiation);
        spawn(async move {
            match applied.await {
                Ok(_) => negotiation.established.set(true),
                Err(error) => {
                    let error = browser_error(PeerOperation::ApplyAnswer, &error);
                    dispatch(Action::PeerConnectionFailed { call_attempt, error });
                }
            }
        });
    }

    /// Inside the call: the peer's offer (answered) or its answer to ours, by perfect
    /// negotiation. A colliding offer is ignored by the impolite side and applied by the polite
    /// one, which drops its unapplied offer; an answer to an offer we no longer have is dropped.
    pub fn receive_renegotiation(&self, description: &SessionDescription, dispatch: Dispatch) {
        let call_attempt = self.call_attempt;
        let Ok(init) = parse_json(description.as_json()) else { return };
        let is_offer = Reflect::get(&init, &JsValue::from_str("type")).ok().and_then(|kind| kind.as_string())
            == Some("offer".to_owned());
        let negotiation = &self.negotiation;
        let signaling_state = self.connection.signaling_state();
        // Taken by the peer's offer (dropped: it collides) or by an answer (to apply it first).
        let unapplied_offer = if is_offer || signaling_state == RtcSignalingState::Stable {
            negotiation.unapplied_offer.take()
        } else {
            None
        };
        let ready_for_offer = !negotiation.making_offer.get()
            && unapplied_offer.is_none()
            && (signaling_state == RtcSignalingState::Stable || negotiation.setting_remote_answer_pending.get());
        let offer_collision = is_offer && !ready_for_offer;
        negotiation.ignore_offer.set(!negotiation.polite && offer_collision);
        if offer_collision {
            dispatch(Action::OfferCollided { call_attempt, rolled_back: negotiation.polite });
        }
        let answer_to_unapplied_offer = !is_offer && unapplied_offer.is_some();
        if negotiation.ignore_offer.get()
            || (!is_offer && signaling_state != RtcSignalingState::HaveLocalOffer && !answer_to_unapplied_offer)
        {
            return;
        }
        if is_offer {
            negotiation.remote_offers_applied.set(negotiation.remote_offers_applied.get().wrapping_add(1));
        }
        negotiation.setting_remote_answer_pending.set(!is_offer);
        if let Some(offer) = unapplied_offer.filter(|_| answer_to_unapplied_offer) {
            // Queued now, before the answer: both are on the operations chain in this order.
            let applied = JsFuture::from(self.connection.set_local_description(offer.unchecked_ref()));
            spawn(async move {
                let _ = applied.await;
            });
        }
        let init: RtcSessionDescriptionInit = init.unchecked_into();
        // Synchronously on the operations chain, so candidates that follow apply after it.
        let applied = JsFuture::from(self.connection.set_remote_description(&init));
        let (connection, negotiation) = (self.connection.clone(), Rc::clone(&self.negotiation));
        spawn(async move {
            let applied = applied.await;
            negotiation.setting_remote_answer_pending.set(false);
            if applied.is_err() || !is_offer {
                return;
            }
            if let Ok(answer) = set_implicit_local_description(&connection).await {
                report_local_description(call_attempt, answer, &dispatch);
            }
        });
    }

    /// Restarts ICE: `restartIce()`, whose `negotiationneeded` makes the offer. While an offer
    /// of ours still waits for its answer (it may have been lost while the server or the peer
    /// was away) that offer is sent again instead (a second answer to it is dropped).
    pub fn restart_ice(&self, dispatch: Dispatch) {
        if !self.negotiation.established.get() || self.negotiation.making_offer.get() {
            return;
        }
        if let Some(offer) = self.negotiation.unapplied_offer.borrow().as_ref() {
            if let Ok(offer) = description_from_browser(offer) {
                report_local_description(self.call_attempt, offer, &dispatch);
            }
            return;
        }
        if self.connection.signaling_state() == RtcSignalingState::HaveLocalOffer {
            if let Ok(offer) = local_description(&self.connection) {
                report_local_description(self.call_attempt, offer, &dispatch);
            }
            return;
        }
        let restart = Reflect::get(&self.connection, &JsValue::from_str("restartIce"))
            .ok()
            .and_then(|method| method.dyn_into::<Function>().ok());
        if let Some(restart) = restart {
            let _ = restart.call0(&self.connection);
        }
    }

    /// Starts applying the peer's offer or answer, then `waiting_candidates` in order: both go
    /// on the peer connection's operations chain now, so the candidates are applied after the
    /// description, whatever arrives meanwhile. `None` once a description that is not even JSON
    /// has been reported as a failure.
    fn apply_remote_description(
        &self,
        description: &SessionDescription,
        waiting_candidates: &[IceCandidate],
        dispatch: &Dispatch,
    ) -> Option<JsFuture> {
        let description: RtcSessionDescriptionInit = match parse_json(description.as_json()) {
            Ok(description) => description.unchecked_into(),
            Err(error) => {
                dispatch(Action::PeerConnectionFailed { call_attempt: self.call_attempt, error });
                return None;
            }
        };
        let applied = JsFuture::from(self.connection.set_remote_description(&description));
        for candidate in waiting_candidates {
            self.add_remote_candidate(candidate);
        }
        Some(applied)
    }

    /// One trickled candidate from the peer. A candidate the browser rejects is not fatal (ICE
    /// may still succeed with the others; one of an offer we ignored is expected to fail), so
    /// failures are ignored.
    pub fn add_remote_candidate(&self, candidate: &IceCandidate) {
        let Ok(candidate_init) = parse_json(candidate.as_json()) else { return };
        if candidate_init.is_null() {
            return;
        }
        let candidate_init: RtcIceCandidateInit = candidate_init.unchecked_into();
        let added =
            JsFuture::from(self.connection.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&candidate_init)));
        spawn(async move {
            let _ = added.await;
        });
    }
}

/// Reports a description set by `setLocalDescription()` as the offer or answer it is.
fn report_local_description(call_attempt: CallAttempt, description: SessionDescription, dispatch: &Dispatch) {
    let Ok(nonce) = fresh_nonce() else { return };
    let is_offer = contains_text(description.as_json(), "\"type\":\"offer\"");
    dispatch(if is_offer {
        Action::LocalOfferCreated { call_attempt, offer: description, nonce }
    } else {
        Action::LocalAnswerCreated { call_attempt, answer: description, nonce }
    });
}

/// A fresh random secret for this call's verification code, from `crypto.getRandomValues`
/// (drawn for every offer and answer; the reducer keeps the call's first).
pub(super) fn fresh_nonce() -> Result<Nonce, PeerError> {
    let mut bytes = [0_u8; 32];
    let crypto = web_sys::window()
        .ok_or(JsValue::UNDEFINED)
        .and_then(|window| window.crypto())
        .map_err(|error| browser_error(PeerOperation::DrawVerificationNonce, &error))?;
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(|error| browser_error(PeerOperation::DrawVerificationNonce, &error))?;
    Ok(Nonce(bytes))
}

/// Awaits `created` (createOffer's or createAnswer's promise), sets it as local description and
/// returns it as the protocol carries it.
async fn set_local_description(
    connection: &RtcPeerConnection,
    created: Promise,
    create: PeerOperation,
    set: PeerOperation,
) -> Result<SessionDescription, PeerError> {
    let description = JsFuture::from(created).await.map_err(|error| browser_error(create, &error))?;
    let description: RtcSessionDescriptionInit = description.unchecked_into();
    JsFuture::from(connection.set_local_description(&description)).await.map_err(|error| browser_error(set, &error))?;
    local_description(connection)
}

/// `setLocalDescription()` with no argument (perfect negotiation: the browser makes the offer,
/// or the answer in `have-remote-offer`), then the description as the protocol carries it.
async fn set_implicit_local_description(connection: &RtcPeerConnection) -> Result<SessionDescription, PeerError> {
    let operation = PeerOperation::SetLocalOffer;
    let method = Reflect::get(connection, &JsValue::from_str("setLocalDescription"))
        .map_err(|error| browser_error(operation, &error))?
        .dyn_into::<Function>()
        .map_err(|error| browser_error(operation, &error))?;
    let promise: Promise = method.call0(connection).map_err(|error| browser_error(operation, &error))?.unchecked_into();
    JsFuture::from(promise).await.map_err(|error| browser_error(operation, &error))?;
    local_description(connection)
}

pub(super) fn local_description(connection: &RtcPeerConnection) -> Result<SessionDescription, PeerError> {
    let description = connection.local_description().ok_or(PeerError::NoLocalDescription)?;
    description_from_browser(&description)
}

/// A description object of the browser's (`RTCSessionDescription`) as the protocol carries it.
fn description_from_browser(description: &JsValue) -> Result<SessionDescription, PeerError> {
    let json = JSON::stringify(description)
        .ok()
        .and_then(|text| text.as_string())
        .ok_or(PeerError::LocalDescriptionNotEncodable)?;
    SessionDescription::from_json(json).map_err(PeerError::LocalDescriptionInvalid)
}
