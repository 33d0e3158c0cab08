//! The pure heart of the app: [`AppModel`], the [`Action`]s that change it and the [`Effect`]s
//! the browser glue must carry out. No web-sys in here, so every transition is unit-tested natively.
//!
//! Layout: the model types (`model`, `connection`, `sign_in`, `call_phase`, `local_media`,
//! `notice`), `Action` and `Effect` (`action`), [`AppModel::apply`] below, which only routes,
//! and the handlers grouped by where the action comes from (`from_person`, `from_connection`,
//! `from_server`, `from_browser`; the in-call controls in `in_call`, the data channel and chat in
//! `peer_link`, the Settings panel and devices in `from_settings`, a camera or microphone that stops by itself in
//! `lost_devices`, the verification code in
//! `verification`, the call statistics in `call_stats`, do not disturb and missed calls in
//! `reachability`, the Recent list in `recent`, the ringtone, ringback and notification in `alerting`; ICE restarts in
//! `recovery`, a call outliving its signaling connection in `resume`). Tests are in `tests/`, one file per flow.
//!
//! Invariants:
//! - Exactly one call phase at a time; every phase that owns an `RTCPeerConnection` ends with an
//!   [`Effect::ReleasePeerConnection`], whoever ends it and however.
//! - Every call gets a fresh [`CallAttempt`]; events from the browser carry the attempt they
//!   belong to, and events of an older attempt are ignored.
//! - Remote ICE candidates that arrive before the remote description can be applied (while
//!   calling, or while ringing before Accept) are queued in the model, never dropped.
//! - SDP bodies are never formatted into any text this module produces.

mod action;
mod alerting;
mod call_phase;
mod call_stats;
mod chat;
mod connection;
mod from_browser;
mod from_connection;
mod from_person;
mod from_server;
mod from_settings;
mod in_call;
mod local_media;
mod lost_devices;
mod media_controls;
mod model;
mod notice;
mod peer_link;
mod presence;
mod reachability;
mod recent;
mod recovery;
mod resume;
mod settings;
mod sign_in;
mod verification;

pub use action::{Action, Effect, MediaRequest};
#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(unused_imports))]
pub use alerting::Tone;
pub use call_phase::{same_person, CallAttempt, CallPhase, NegotiationRole, PeerConnectionState};
#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(unused_imports))]
pub use call_stats::CallStats;
pub use chat::{Chat, ChatMessage};
pub use connection::{reconnect_delay_millis, SignalingConnection};
pub use local_media::{LocalMedia, PendingStart, WAITING_FOR_LOCAL_MEDIA};
pub use media_controls::{CameraState, MediaControls, RemoteMediaState, ScreenShare, VideoSource, ViewerFeatures};
pub use model::AppModel;
// The reducer never names `NoticeKind` (the `Notice` constructors do); only the components,
// built for the browser alone, and the tests do.
#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(unused_imports))]
pub use notice::{Notice, NoticeKind};
pub use presence::OnlineListSource;
#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(unused_imports))]
pub use reachability::MissedCall;
// The component and the glue name all of these, the tests only some.
#[cfg_attr(not(target_arch = "wasm32"), allow(unused_imports))]
pub use recent::{PresenceStatus, RecentCall, RecentEvent, RECENT_PRESENCE_QUERY_MILLIS};
// The tests check the cap and the storage key.
#[cfg(test)]
pub use recent::{RecentCalls, MAX_RECENT_CALLS};
#[cfg_attr(not(target_arch = "wasm32"), allow(unused_imports))]
pub use recovery::MediaRecovery;
#[cfg(test)]
pub use recovery::{ice_restart_delay_millis, IceRestarts, ICE_RESTART_GIVE_UP_MILLIS};
pub use resume::app_login;
#[cfg(test)]
pub use resume::{CallResume, RECONNECTING_TO_THE_SERVER};
pub use settings::{AudioProcessing, AudioSwitch, DeviceChoices, DeviceKind, MediaDevice, Settings};
pub use sign_in::SignIn;
#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(unused_imports))]
pub use verification::VerificationOutcome;
// The reducer's tests name the failures; the components show them through `Display`.
#[cfg(test)]
pub use verification::VerificationFailure;

impl AppModel {
    /// Applies one action and returns the effects to carry out, in order.
    pub fn apply(&mut self, action: Action) -> Vec<Effect> {
        let mut effects = Vec::new();
        if action.call_attempt().is_some_and(|attempt| self.call.call_attempt() != Some(attempt)) {
            // An event of an earlier call's peer connection: that call is over.
            return effects;
        }
        let before = recent::CallSketch::of(&self.call);
        let declined = matches!(action, Action::DeclineClicked);
        match action {
            Action::AppStarted => self.app_started(&mut effects),
            Action::OnlineUsersRefreshDue => self.online_users_refresh_due(&mut effects),
            Action::ReconnectDue => self.reconnect_due(&mut effects),
            Action::RecoveryCheckDue { .. } => self.recovery_check_due(&mut effects),
            Action::ResumeDeadlinePassed => self.resume_deadline_passed(&mut effects),
            Action::PageClosing => self.page_closing(&mut effects),
            Action::RestartConnectionClicked => self.restart_connection_clicked(&mut effects),
            Action::OfferCollided { .. } => self.offer_collided(),
            Action::SignInRequested { typed_name } => self.sign_in_requested(&typed_name, &mut effects),
            Action::CallRequested { typed_name } => self.call_requested(&typed_name, &mut effects),
            Action::CancelCallClicked => self.cancel_call_clicked(&mut effects),
            Action::AcceptClicked => self.accept_clicked(&mut effects),
            Action::DeclineClicked => self.decline_clicked(&mut effects),
            Action::HangUpClicked => self.hang_up_clicked(&mut effects),
            Action::DismissNoticeClicked => self.dismiss_notice_clicked(),
            Action::ServerMessageReceived { message, at_millis } => {
                self.server_message_received(message, at_millis, &mut effects)
            }
            Action::DoNotDisturbClicked => self.do_not_disturb_clicked(&mut effects),
            Action::DoNotDisturbRestored { on } => self.do_not_disturb = on,
            Action::CallBackClicked { index } => self.call_back_clicked(index, &mut effects),
            Action::ClearMissedCallsClicked => self.clear_missed_calls_clicked(),
            Action::ServerMessageUnreadable { error } => self.server_message_unreadable(error),
            Action::SignalingClosed { close_code } => self.signaling_closed(close_code, &mut effects),
            Action::LocalMediaSettled { has_audio, has_video, problem } => {
                self.local_media_settled(has_audio, has_video, problem, &mut effects)
            }
            Action::MuteClicked => self.mute_clicked(&mut effects),
            Action::CameraClicked => self.camera_clicked(&mut effects),
            Action::ShareScreenClicked => self.share_screen_clicked(&mut effects),
            Action::ChatClicked => self.chat_clicked(),
            Action::ChatMessageSubmitted { typed, at_millis } => {
                self.chat_message_submitted(&typed, at_millis, &mut effects)
            }
            Action::CameraSettled { problem } => self.camera_settled(problem, &mut effects),
            Action::ScreenShareSettled { problem } => self.screen_share_settled(problem, &mut effects),
            Action::ScreenShareEnded => self.screen_share_ended(&mut effects),
            Action::LocalDeviceStopped { kind } => self.local_device_stopped(kind, &mut effects),
            Action::DataChannelOpened { .. } => self.data_channel_opened(&mut effects),
            Action::PeerMessageReceived { text, at_millis, .. } => {
                self.peer_message_received(&text, at_millis, &mut effects)
            }
            Action::SettingsClicked => self.settings_clicked(&mut effects),
            Action::DeviceChoicesRestored { choices } => self.device_choices_restored(choices),
            Action::DevicesChanged => effects.push(Effect::ListDevices),
            Action::DevicesListed { devices, speaker_selection_supported } => {
                self.devices_listed(devices, speaker_selection_supported, &mut effects)
            }
            Action::DeviceChosen { kind, id } => self.device_chosen(kind, id, &mut effects),
            Action::DeviceSwitched { kind, problem } => self.device_switched(kind, problem, &mut effects),
            Action::AudioProcessingChanged { switch, on } => self.audio_processing_changed(switch, on, &mut effects),
            Action::MicrophoneLevelMeasured { level } => self.microphone_level_measured(level),
            Action::ViewerFeaturesDetected { features } => self.viewer = features,
            Action::FullScreenClicked => self.full_screen_clicked(&mut effects),
            Action::PictureInPictureClicked => self.picture_in_picture_clicked(&mut effects),
            Action::LocalOfferCreated { offer, nonce, .. } => self.local_offer_created(&offer, nonce, &mut effects),
            Action::LocalAnswerCreated { answer, nonce, .. } => self.local_answer_created(&answer, nonce, &mut effects),
            Action::LocalIceCandidateGathered { candidate, .. } => self.candidate_gathered(candidate, &mut effects),
            Action::PeerConnectionStateChanged { state, .. } => self.peer_connection_state_changed(state, &mut effects),
            Action::PeerConnectionFailed { error, .. } => self.peer_connection_failed(error, &mut effects),
            Action::SelectedCandidatePairRead { pair, .. } => self.selected_candidate_pair_read(pair),
            Action::StatsSampled { sample, .. } => self.stats_sampled(sample),
            Action::StatisticsClicked => self.statistics_clicked(),
            Action::RecentCallsRestored { storage_key, text } => {
                self.recent_calls_restored(&storage_key, text.as_deref(), &mut effects)
            }
            Action::ClearRecentCallsClicked => self.clear_recent_calls_clicked(),
            Action::RecentPresenceQueryDue => self.query_recent_presence(&mut effects),
            Action::VerificationDeadlinePassed { .. } => self.verification_deadline_passed(),
        }
        self.follow_call_for_recent(before, declined, &mut effects);
        effects
    }
}

#[cfg(test)]
mod tests;
