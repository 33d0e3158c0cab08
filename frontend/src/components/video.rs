//! [`StreamVideo`]: a `<video>` that shows a `MediaStream`, re-attached when the stream or its
//! version changes, playing on the chosen audio output (`setSinkId`) where one is given.

use crate::spawn::ignore_outcome;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlVideoElement, MediaStream};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub(super) struct StreamVideoProps {
    pub label: AttrValue,
    /// The whole `class` attribute.
    pub class: &'static str,
    pub muted: bool,
    pub stream: Option<MediaStream>,
    /// Changes when the stream's tracks changed and it must be re-attached.
    pub version: u32,
    /// Rendered as `data-selected-candidate-type` (absent when `None`).
    #[prop_or_default]
    pub local_candidate_type: Option<AttrValue>,
    /// Rendered as `data-selected-remote-candidate-type` (absent when `None`).
    #[prop_or_default]
    pub remote_candidate_type: Option<AttrValue>,
    /// The audio output (`setSinkId`; empty: the default), where the browser can choose it.
    #[prop_or_default]
    pub sink_id: Option<AttrValue>,
}

/// A `<video>` showing a `MediaStream` (autoplay, playsinline).
#[function_component(StreamVideo)]
pub(super) fn stream_video(props: &StreamVideoProps) -> Html {
    let video_ref = use_node_ref();
    {
        let video_ref = video_ref.clone();
        let muted = props.muted;
        use_effect_with((props.stream.clone(), props.version), move |(stream, _version)| {
            if let Some(video) = video_ref.cast::<HtmlVideoElement>() {
                video.set_muted(muted);
                video.set_src_object(None);
                video.set_src_object(stream.as_ref());
                if stream.is_some() {
                    if let Ok(playing) = video.play() {
                        // Autoplay may be refused until the user interacts; the element's
                        // autoplay attribute starts it then. Never an unhandled rejection.
                        ignore_outcome(JsFuture::from(playing));
                    }
                }
            }
            || ()
        });
    }
    {
        let video_ref = video_ref.clone();
        use_effect_with(props.sink_id.clone(), move |sink_id| {
            if let (Some(video), Some(sink_id)) = (video_ref.get(), sink_id) {
                let set_sink_id = Reflect::get(&video, &JsValue::from_str("setSinkId"));
                if let Ok(set_sink_id) = set_sink_id.and_then(|f| f.dyn_into::<Function>()) {
                    if let Ok(promise) = set_sink_id.call1(&video, &JsValue::from_str(sink_id)) {
                        // A refused output leaves the sound where it was.
                        ignore_outcome(JsFuture::from(Promise::from(promise)));
                    }
                }
            }
            || ()
        });
    }
    html! {
        <video ref={video_ref} class={props.class} aria-label={props.label.clone()}
               autoplay=true playsinline=true muted={props.muted}
               data-selected-candidate-type={props.local_candidate_type.clone()}
               data-selected-remote-candidate-type={props.remote_candidate_type.clone()} />
    }
}
