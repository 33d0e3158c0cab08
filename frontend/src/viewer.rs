//! Browser glue for watching the remote video bigger: full screen (the remote video's frame,
//! `requestFullscreen` / `exitFullscreen`) and picture in picture (`requestPictureInPicture` /
//! `exitPictureInPicture`, called through `Reflect` as web-sys has them only as unstable APIs),
//! and which of the two the browser allows.

use crate::spawn::ignore_outcome;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::Document;

const REMOTE_FRAME: &str = ".remote-frame";
const REMOTE_VIDEO: &str = "video[aria-label=\"Remote video\"]";

fn document() -> Option<Document> {
    web_sys::window()?.document()
}

fn flag(target: &JsValue, name: &str) -> bool {
    Reflect::get(target, &JsValue::from_str(name)).ok().and_then(|value| value.as_bool()).unwrap_or(false)
}

/// Whether the browser allows full screen and picture in picture here.
pub fn viewer_features() -> (bool, bool) {
    let Some(document) = document() else { return (false, false) };
    (flag(&document, "fullscreenEnabled"), flag(&document, "pictureInPictureEnabled"))
}

/// Calls `target.method()` and ignores the promise's outcome (refused: nothing changes).
fn call(target: &JsValue, method: &str) {
    let Ok(function) = Reflect::get(target, &JsValue::from_str(method)).and_then(|f| f.dyn_into::<Function>()) else {
        return;
    };
    if let Ok(result) = function.call0(target) {
        if let Ok(promise) = result.dyn_into::<Promise>() {
            ignore_outcome(JsFuture::from(promise));
        }
    }
}

/// Full screen on the remote video's frame, or back.
pub fn toggle_full_screen() {
    let Some(document) = document() else { return };
    if document.fullscreen_element().is_some() {
        document.exit_fullscreen();
    } else if let Ok(Some(frame)) = document.query_selector(REMOTE_FRAME) {
        call(&frame, "requestFullscreen");
    }
}

/// The remote video in a picture-in-picture window, or back.
pub fn toggle_picture_in_picture() {
    let Some(document) = document() else { return };
    let current = Reflect::get(&document, &JsValue::from_str("pictureInPictureElement")).unwrap_or(JsValue::NULL);
    if !current.is_null() && !current.is_undefined() {
        call(&document, "exitPictureInPicture");
    } else if let Ok(Some(video)) = document.query_selector(REMOTE_VIDEO) {
        call(&video, "requestPictureInPicture");
    }
}
