//! Callee side, while the call rings: the caller's offer is applied, the transceivers made
//! sendrecv and the answer created ahead of Accept ([`PeerSession::prepare_answer`]), so that on
//! Accept only the answer's `setLocalDescription` stands between the click and the answer sent
//! ([`PeerSession::answer_prepared_offer`]). Until then nothing leaves the browser: without a
//! local description there is no ICE gathering and no connectivity check (the caller learns
//! nothing, not even our addresses, before Accept), and no track of ours is on a sender (the
//! camera and microphone are attached on Accept, as before). A failure while it rings is reported
//! only on Accept, with the words the unprepared path (`answer_offer`) would have used.
//!
//! An answer already created when Accept comes (the usual case) is set in Accept's own task,
//! before the re-render that Accept causes: awaiting its promise instead put the whole render
//! and its effects (the remote `<video>` given its stream, a new media player) between the click
//! and `setLocalDescription` (BENCHMARKS.md, the web app's notes).

use super::negotiation::{fresh_nonce, local_description};
use super::{browser_error, parse_json, PeerSession};
use crate::call_state::Action;
use crate::errors::{PeerError, PeerOperation};
use crate::signaling::Dispatch;
use crate::spawn::spawn;
use crate::transceivers::{make_transceivers_sendrecv, send_local_tracks};
use protocol::{IceCandidate, SessionDescription};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{MediaStreamTrack, RtcSessionDescriptionInit};

/// The answer created while the call rings (not applied), or why it could not be. The browser
/// drives the work while it rings; Accept, which may come before it is ready, awaits the same
/// promise. The promise always resolves (the answer, or `null` with the error in `failure`), so a
/// call declined after a failed preparation leaves no unhandled rejection behind.
pub(super) struct PreparedAnswer {
    answer: js_sys::Promise,
    failure: Rc<RefCell<Option<PeerError>>>,
    /// The answer once created (the promise's value, readable without awaiting it).
    created: Rc<RefCell<Option<JsValue>>>,
}

impl PreparedAnswer {
    /// The answer, once the browser has created it, or the error that stopped it.
    async fn outcome(self) -> Result<JsValue, PeerError> {
        let answer = JsFuture::from(self.answer).await.unwrap_or(JsValue::NULL);
        match self.failure.take() {
            Some(error) => Err(error),
            None => Ok(answer),
        }
    }
}

impl PeerSession {
    /// While the call rings: applies the caller's offer, makes the transceivers sendrecv and
    /// creates the answer, keeping it for [`PeerSession::answer_prepared_offer`]. An offer that
    /// is not even JSON prepares nothing (Accept then answers from scratch and reports it).
    pub fn prepare_answer(&self, offer: &SessionDescription) {
        let Ok(offer) = parse_json(offer.as_json()) else { return };
        let offer: RtcSessionDescriptionInit = offer.unchecked_into();
        let applied = JsFuture::from(self.connection.set_remote_description(&offer));
        let connection = self.connection.clone();
        let failure = Rc::new(RefCell::new(None));
        let failure_slot = Rc::clone(&failure);
        let created = Rc::new(RefCell::new(None));
        let created_slot = Rc::clone(&created);
        // Driven now by the browser, while it rings; Accept awaits the same promise.
        let answer = future_to_promise(async move {
            let answer = async {
                applied.await.map_err(|error| browser_error(PeerOperation::ApplyCallersOffer, &error))?;
                make_transceivers_sendrecv(&connection);
                JsFuture::from(connection.create_answer())
                    .await
                    .map_err(|error| browser_error(PeerOperation::CreateAnswer, &error))
            }
            .await;
            if let Ok(answer) = &answer {
                created_slot.replace(Some(answer.clone()));
            }
            Ok(answer.unwrap_or_else(|error| {
                failure_slot.replace(Some(error));
                JsValue::NULL
            }))
        });
        self.prepared_answer.replace(Some(PreparedAnswer { answer, failure, created }));
    }

    /// True when [`PeerSession::prepare_answer`] prepared this call's answer and Accept has not
    /// used it yet.
    pub fn has_prepared_answer(&self) -> bool {
        self.prepared_answer.borrow().is_some()
    }

    /// Accept of a call whose answer was prepared while it rang: the candidates that waited
    /// (queued now, so after the offer), our tracks on the senders (`replaceTrack`, alongside),
    /// the prepared answer set as local description (now if it is ready, else once it is), then
    /// [`Action::LocalAnswerCreated`] once the tracks are set too; the same steps and outcome as
    /// `answer_offer`, in less time.
    pub fn answer_prepared_offer(
        &self,
        waiting_candidates: &[IceCandidate],
        local_tracks: (Option<MediaStreamTrack>, Option<MediaStreamTrack>),
        dispatch: Dispatch,
    ) {
        let Some(prepared) = self.prepared_answer.take() else { return };
        for candidate in waiting_candidates {
            self.add_remote_candidate(candidate);
        }
        let call_attempt = self.call_attempt;
        let connection = self.connection.clone();
        let negotiation = Rc::clone(&self.negotiation);
        let ready = prepared.created.borrow_mut().take();
        let started_now = ready.map(|answer| set_prepared_answer(&connection, &answer, local_tracks.clone()));
        spawn(async move {
            let answer = async {
                let (answer_set, tracks_set) = match started_now {
                    Some(started) => started,
                    None => set_prepared_answer(&connection, &prepared.outcome().await?, local_tracks),
                };
                answer_set.await.map_err(|error| browser_error(PeerOperation::SetLocalAnswer, &error))?;
                let answer = local_description(&connection);
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
}

/// Starts our tracks' `replaceTrack`s and `setLocalDescription(answer)`, in this order; both
/// futures, to await.
fn set_prepared_answer(
    connection: &web_sys::RtcPeerConnection,
    answer: &JsValue,
    (audio, video): (Option<MediaStreamTrack>, Option<MediaStreamTrack>),
) -> (JsFuture, impl std::future::Future<Output = ()>) {
    let tracks_set = send_local_tracks(connection, audio, video);
    (JsFuture::from(connection.set_local_description(answer.unchecked_ref())), tracks_set)
}
