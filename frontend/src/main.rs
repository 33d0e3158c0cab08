//! Duet's web app entry point: mounts the Yew `App` in the browser. On the host (native) the
//! binary only explains how to build it; the pure modules are what native `cargo test` checks.

// Natively only the pure modules are built (for their tests); what only the browser glue uses
// would otherwise be reported as unused.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

mod call_state;
mod errors;
mod ice_diagnostics;
mod peer_message;
mod shortcuts;
mod signaling_url;
mod sorted_pairs;
mod stats;
mod text_case;
mod text_search;
mod verification;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod data_channel;
#[cfg(target_arch = "wasm32")]
mod devices;
#[cfg(target_arch = "wasm32")]
mod keyboard;
#[cfg(target_arch = "wasm32")]
mod local_tracks;
#[cfg(target_arch = "wasm32")]
mod media;
#[cfg(target_arch = "wasm32")]
mod page_exit;
#[cfg(target_arch = "wasm32")]
mod peer;
#[cfg(target_arch = "wasm32")]
mod ring_alerts;
#[cfg(target_arch = "wasm32")]
mod signaling;
#[cfg(target_arch = "wasm32")]
mod spawn;
#[cfg(target_arch = "wasm32")]
mod stats_sampler;
#[cfg(target_arch = "wasm32")]
mod transceivers;
#[cfg(target_arch = "wasm32")]
mod viewer;

#[cfg(target_arch = "wasm32")]
fn main() {
    yew::Renderer::<app::App>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The Duet web app runs in a browser: build it with ./scripts/build-frontend (trunk build --release).");
}
