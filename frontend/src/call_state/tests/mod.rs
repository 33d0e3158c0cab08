//! Native unit tests of the reducer, one file per flow; `fixtures` holds what they share.

mod fixtures;

mod calling;
mod controls;
mod diagnostics;
mod ending;
mod glare;
mod ice_restart;
mod lost_devices;
mod media;
mod negotiation;
mod peer_link;
mod presence;
mod reachability;
mod recent;
mod reconnect;
mod refusals;
mod resume;
mod ringing;
mod settings;
mod sign_in;
mod statistics;
mod verification;
