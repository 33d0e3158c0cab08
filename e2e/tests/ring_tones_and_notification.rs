//! Browser test of what rings, in real Chromium: bob's page asks once for notification
//! permission when he signs in; a call to bob plays the ringtone (two oscillators at 523 and 659
//! Hz, generated with WebAudio) and, his tab being hidden, shows a system notification "alice is
//! calling you"; Accept stops both (the audio context closed, the notification closed). Then bob
//! calls alice: the ringback (440 + 480 Hz) plays until she answers.
//!
//! Bob's page has a pre-load script that records the oscillators the page creates, replaces
//! `Notification` with a recording stand-in (permission granted once asked) and reports the
//! document as hidden; the app itself has no test hook.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::*;

const RECORD_TONES_AND_NOTIFICATIONS: &str = r#"
    window.__duetTones = [];
    const createOscillator = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function () {
        const oscillator = createOscillator.call(this);
        window.__duetTones.push({ context: this, oscillator });
        return oscillator;
    };
    window.__duetNotifications = [];
    window.__duetPermissionRequests = 0;
    window.Notification = class {
        constructor(title, options) {
            this.title = title;
            this.body = options ? options.body : '';
            this.closed = false;
            window.__duetNotifications.push(this);
        }
        close() { this.closed = true; }
        static get permission() { return window.__duetPermissionRequests > 0 ? 'granted' : 'default'; }
        static requestPermission() {
            window.__duetPermissionRequests += 1;
            return Promise.resolve('granted');
        }
    };
    Object.defineProperty(Document.prototype, 'hidden', { get: () => true, configurable: true });
"#;

/// "FREQUENCY:STATE" of every oscillator the page made, in order.
const TONES: &str =
    "return window.__duetTones.map(t => Math.round(t.oscillator.frequency.value) + ':' + t.context.state).join(',');";

const NOTIFICATIONS: &str =
    "return window.__duetNotifications.map(n => n.title + '|' + n.body + '|' + (n.closed ? 'closed' : 'open')).join(',');";

async fn wait_for_tones(person: &Person, what: &str, wanted: &str) {
    let condition = format!("const tones = (() => {{ {TONES} }})(); return tones === {wanted:?} ? tones : '';");
    person.wait_for(what, &condition).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ringtone_ringback_and_notification_start_and_stop_with_the_ringing() {
    let people = two_people_signed_in_with_bob_preload(&[], &[], Some(RECORD_TONES_AND_NOTIFICATIONS)).await;
    let (alice, bob) = (&people.alice, &people.bob);
    let asked = bob.run_script("return window.__duetPermissionRequests;", vec![]).await;
    assert_eq!(asked.as_u64(), Some(1), "asked once, at sign-in");
    assert_eq!(bob.run_script(TONES, vec![]).await.as_str(), Some(""), "nothing rings before a call");

    alice.type_into_labelled_input("Name to call", "bob").await;
    alice.click_button("Call").await;
    bob.wait_for_phase("ringing").await;
    wait_for_tones(bob, "the ringtone", "523:running,659:running").await;
    let shown = bob.run_script(NOTIFICATIONS, vec![]).await;
    assert_eq!(shown.as_str(), Some("alice is calling you|Open Duet to answer.|open"));

    bob.click_button("Accept").await;
    bob.wait_for_phase("in-call").await;
    wait_for_tones(bob, "the ringtone to stop", "523:closed,659:closed").await;
    let shown = bob.run_script(NOTIFICATIONS, vec![]).await;
    assert_eq!(shown.as_str(), Some("alice is calling you|Open Duet to answer.|closed"));
    bob.click_button("Hang up").await;
    alice.wait_for_phase("idle").await;

    bob.type_into_labelled_input("Name to call", "alice").await;
    bob.click_button("Call").await;
    alice.wait_for_phase("ringing").await;
    wait_for_tones(bob, "the ringback", "523:closed,659:closed,440:running,480:running").await;
    alice.click_button("Accept").await;
    bob.wait_for_phase("in-call").await;
    wait_for_tones(bob, "the ringback to stop", "523:closed,659:closed,440:closed,480:closed").await;
    let asked = bob.run_script("return window.__duetPermissionRequests;", vec![]).await;
    assert_eq!(asked.as_u64(), Some(1), "never asked again");
    people.close().await;
}
