//! Starting the app's futures: one non-generic entry to `wasm_bindgen_futures::spawn_local`.
//!
//! `spawn_local` is generic over the future, so each call site with its own `async` block got its
//! own copy of wasm-bindgen's task set-up (`Task::spawn` and the JSPI path). Through
//! `spawn_boxed` every future is boxed first and that code exists once in the wasm.

use std::future::Future;
use std::pin::Pin;
use wasm_bindgen_futures::{spawn_local, JsFuture};

/// Runs `future` to completion on the browser's microtask queue, as `spawn_local` does.
pub fn spawn<F: Future<Output = ()> + 'static>(future: F) {
    spawn_boxed(Box::pin(future));
}

#[inline(never)]
fn spawn_boxed(future: Pin<Box<dyn Future<Output = ()>>>) {
    spawn_local(future);
}

/// Waits for a promise and drops its outcome, a rejection included: never an unhandled rejection.
pub fn ignore_outcome(promise: JsFuture) {
    spawn(async move {
        let _ = promise.await;
    });
}
