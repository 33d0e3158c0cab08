//! Browser glue for the call's one `RTCDataChannel`: `negotiated: true, id: 0`, created on both
//! sides before the offer and the answer (so it is part of the first negotiation and never needs
//! another), carrying [`PeerMessage`](crate::peer_message::PeerMessage) frames as text. It
//! reports `open` as [`Action::DataChannelOpened`] and every text frame as
//! [`Action::PeerMessageReceived`] (decoded by the reducer). Dropping a [`PeerChannel`] detaches
//! and drops its closures and closes the channel.

use crate::call_state::{Action, CallAttempt};
use crate::signaling::Dispatch;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Event, MessageEvent, RtcDataChannel, RtcDataChannelInit, RtcDataChannelState, RtcPeerConnection};

/// The channel's label (both sides use the same; with `negotiated` only the id matters).
const LABEL: &str = "duet";

/// One call's data channel and the closures it calls.
pub struct PeerChannel {
    channel: RtcDataChannel,
    on_open: Closure<dyn FnMut(Event)>,
    on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl std::fmt::Debug for PeerChannel {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("PeerChannel").field("label", &self.channel.label()).finish_non_exhaustive()
    }
}

impl PeerChannel {
    /// Creates the negotiated channel on `connection`; call before createOffer / createAnswer.
    pub fn create(connection: &RtcPeerConnection, call_attempt: CallAttempt, dispatch: Dispatch) -> PeerChannel {
        let init = RtcDataChannelInit::new();
        init.set_negotiated(true);
        init.set_id(0);
        init.set_ordered(true);
        let channel = connection.create_data_channel_with_data_channel_dict(LABEL, &init);
        let on_open = {
            let dispatch = dispatch.clone();
            Closure::<dyn FnMut(Event)>::new(move |_event: Event| dispatch(Action::DataChannelOpened { call_attempt }))
        };
        channel.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            // Only text frames are ours; anything else is ignored.
            let Some(text) = event.data().as_string() else { return };
            // Milliseconds since the epoch fit an f64 exactly; the cast only drops the fraction.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let at_millis = js_sys::Date::now() as u64;
            dispatch(Action::PeerMessageReceived { call_attempt, text, at_millis });
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        PeerChannel { channel, on_open, on_message }
    }

    /// Sends a text frame when the channel is open (the reducer only sends once it opened).
    pub fn send(&self, text: &str) {
        if self.channel.ready_state() == RtcDataChannelState::Open {
            // A channel closing under us loses the frame; the call is ending anyway.
            let _ = self.channel.send_with_str(text);
        }
    }
}

impl Drop for PeerChannel {
    fn drop(&mut self) {
        self.channel.set_onopen(None);
        self.channel.set_onmessage(None);
        self.channel.close();
        // The closures are dropped with `self` right after this.
        let _ = (&self.on_open, &self.on_message);
    }
}
