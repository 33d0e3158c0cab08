//! Browser glue for a call's two transceivers, one audio and one video, both `sendrecv` from
//! the first offer or answer whether or not we have a track for them yet: so the camera can be
//! turned on, a screen shared or a device switched later with `replaceTrack`, never a new offer.

use crate::spawn::ignore_outcome;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStreamTrack, RtcPeerConnection, RtcRtpSender, RtcRtpTransceiver, RtcRtpTransceiverDirection,
    RtcRtpTransceiverInit,
};

fn sendrecv() -> RtcRtpTransceiverInit {
    let init = RtcRtpTransceiverInit::new();
    init.set_direction(RtcRtpTransceiverDirection::Sendrecv);
    init
}

/// Caller side, before the offer: an audio and a video transceiver, with our tracks or none yet.
pub fn add_sendrecv_transceivers(
    connection: &RtcPeerConnection,
    audio: Option<&MediaStreamTrack>,
    video: Option<&MediaStreamTrack>,
) {
    for (kind, track) in [("audio", audio), ("video", video)] {
        match track {
            Some(track) => connection.add_transceiver_with_media_stream_track_and_init(track, &sendrecv()),
            None => connection.add_transceiver_with_str_and_init(kind, &sendrecv()),
        };
    }
}

/// The transceivers of `connection` with the kind of media they carry.
fn transceivers(connection: &RtcPeerConnection) -> Vec<(String, RtcRtpTransceiver)> {
    connection
        .get_transceivers()
        .iter()
        .filter_map(|value| value.dyn_into::<RtcRtpTransceiver>().ok())
        .map(|transceiver| (transceiver.receiver().track().kind(), transceiver))
        .collect()
}

/// Callee side, after the caller's offer is applied: every transceiver it created becomes
/// sendrecv (at once), with our track of its kind (or none yet). Every `replaceTrack` is started
/// at once, none waits for another (the answer need not wait for them either: its SDP does not
/// depend on the senders' tracks); the returned future resolves once they are all done.
pub fn answer_with_sendrecv_transceivers(
    connection: &RtcPeerConnection,
    audio: Option<MediaStreamTrack>,
    video: Option<MediaStreamTrack>,
) -> impl std::future::Future<Output = ()> {
    make_transceivers_sendrecv(connection);
    send_local_tracks(connection, audio, video)
}

/// Callee side, after the caller's offer is applied: every transceiver it created becomes
/// sendrecv, before the answer is created (its SDP says so; nothing is sent by this).
pub fn make_transceivers_sendrecv(connection: &RtcPeerConnection) {
    for (_, transceiver) in transceivers(connection) {
        transceiver.set_direction(RtcRtpTransceiverDirection::Sendrecv);
    }
}

/// Callee side: our track of each kind (or none yet) on the transceiver of that kind, every
/// `replaceTrack` started at once; the returned future resolves once they are all done.
pub fn send_local_tracks(
    connection: &RtcPeerConnection,
    audio: Option<MediaStreamTrack>,
    video: Option<MediaStreamTrack>,
) -> impl std::future::Future<Output = ()> {
    let mut replacements = Vec::new();
    for (kind, transceiver) in transceivers(connection) {
        let track = match kind.as_str() {
            "audio" => audio.as_ref(),
            "video" => video.as_ref(),
            _ => None,
        };
        if track.is_some() {
            replacements.push(JsFuture::from(transceiver.sender().replace_track(track)));
        }
    }
    async move {
        for replaced in replacements {
            // A refused replaceTrack leaves the sender without a track: the call goes on.
            let _ = replaced.await;
        }
    }
}

/// The sender of our `kind` ("audio" or "video") media, once the transceivers exist.
fn sender(connection: &RtcPeerConnection, kind: &str) -> Option<RtcRtpSender> {
    transceivers(connection).into_iter().find(|(each, _)| each == kind).map(|(_, transceiver)| transceiver.sender())
}

/// Sends `track` (or nothing) as our `kind` media from now on: `replaceTrack`, no renegotiation.
pub fn replace_outgoing_track(connection: &RtcPeerConnection, kind: &str, track: Option<&MediaStreamTrack>) {
    let Some(sender) = sender(connection, kind) else { return };
    let replaced = JsFuture::from(sender.replace_track(track));
    ignore_outcome(replaced);
}
