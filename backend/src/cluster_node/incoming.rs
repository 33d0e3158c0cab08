//! The node's subscriber task: what other nodes published for this node (frames, reserved
//! frames, kicks, bounces) goes to its connections through the router; presence notes go to the
//! presence hub, and when notes may have been lost (the subscription reconnected, or its bounded
//! queue dropped some) every presence subscriber gets a fresh snapshot.

use crate::cluster::node_channel::{Incoming, NodeDelivery, NodeFrame, ReturnAddress};
use crate::delivery::KickReason;
use crate::directory::Identity;
use crate::presence::Change;
use crate::router::RouteError;
use crate::{AppState, SharedState};
use protocol::UserName;
use std::sync::Weak;
use tokio::sync::mpsc;
use tungstenite::Utf8Bytes;

pub(super) async fn deliver_incoming(state: Weak<SharedState>, mut incoming: mpsc::Receiver<Incoming>) {
    // Presence notes are lost while the subscription is disconnected, or dropped when its queue
    // is full: then every subscriber gets a fresh snapshot.
    // After a disconnection both channels (this node's and presence) are subscribed again, each
    // reported once: resynchronize at each, so the last one is after both are back.
    let mut resubscriptions_pending = 0u8;
    let mut presence_dropped = 0;
    loop {
        let Some(shutdown) = state.upgrade().map(|state| state.shutdown.clone()) else { return };
        let next = tokio::select! {
            () = shutdown.cancelled() => return,
            next = incoming.recv() => next,
        };
        let (Some(next), Some(state)) = (next, state.upgrade().map(AppState)) else { return };
        let Some(cluster) = &state.cluster else { return };
        let dropped = cluster.drops.presence();
        if dropped != presence_dropped {
            presence_dropped = dropped;
            tracing::warn!("presence notes were dropped: resynchronizing this node's presence subscribers");
            state.presence.resynchronize(crate::dispatch::MAX_USERS_LISTED).await;
        }
        let frame = match next {
            Incoming::Frame(frame) => frame,
            Incoming::Presence(note) => {
                if note.from != state.router.node() {
                    // The change's kind is not sent: the flush reads the name's final state.
                    state.presence.announce(&Identity::new(UserName::from_wire(note.display)), Change::Left);
                }
                continue;
            }
            Incoming::Subscribed => {
                tracing::info!("subscribed to this node's channel");
                if resubscriptions_pending > 0 {
                    resubscriptions_pending -= 1;
                    state.presence.resynchronize(crate::dispatch::MAX_USERS_LISTED).await;
                }
                continue;
            }
            Incoming::Disconnected => {
                tracing::warn!("this node's channel is disconnected: frames for it fail at their senders");
                resubscriptions_pending = 2;
                continue;
            }
        };
        deliver_frame(&state, frame);
    }
}

/// Hands one frame from another node to this node's connection.
fn deliver_frame(state: &AppState, frame: NodeFrame) {
    let to = state.router.reference_to(frame.connection);
    match frame.kind {
        NodeDelivery::Kick(reason) => {
            let _ = state.router.kick(&to, reason);
        }
        NodeDelivery::Reserved => {
            if let Ok(text) = Utf8Bytes::try_from(frame.payload) {
                let _ = state.router.deliver_reserved(&to, text);
            }
        }
        NodeDelivery::Frame => {
            let Ok(text) = Utf8Bytes::try_from(frame.payload) else { return };
            match state.router.deliver(&to, text) {
                Ok(()) => {}
                Err(RouteError::QueueFull(_)) => {
                    let _ = state.router.kick(&to, KickReason::SlowConsumer);
                }
                Err(RouteError::NotConnected | RouteError::OtherNode(_)) => {
                    if let Some(back) = frame.return_address {
                        bounce(state, back);
                    }
                }
            }
        }
        NodeDelivery::Bounced => {
            let Ok(recipient) = String::from_utf8(frame.payload) else { return };
            crate::dispatch::relay_bounced(state, &to, &UserName::from_wire(recipient));
        }
    }
}

/// A relayed frame found its recipient's connection gone (closed, its call held): its sender is
/// told, on whichever node it is.
fn bounce(state: &AppState, back: ReturnAddress) {
    if back.sender.node == state.router.node() {
        crate::dispatch::relay_bounced(state, &back.sender, &UserName::from_wire(back.recipient_name));
        return;
    }
    let (state, sender) = (state.clone(), back.sender);
    tokio::spawn(async move {
        let Some(cluster) = &state.cluster else { return };
        let name = back.recipient_name.as_bytes();
        if let Err(error) = cluster.publish(&sender, NodeDelivery::Bounced, name).await {
            tracing::debug!(%sender, %error, "a bounce was not delivered");
        }
    });
}
