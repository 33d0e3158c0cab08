//! Tests of the verification code and its commitment.

use super::words::{word, WORDS};
use super::*;

fn nonce(seed: u8) -> Nonce {
    Nonce([seed; 32])
}

const ALICE_FINGERPRINT: &str =
    "sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";
const BOB_FINGERPRINT: &str =
    "sha-256 11:22:33:44:55:66:77:88:99:00:AA:BB:CC:DD:EE:FF:11:22:33:44:55:66:77:88:99:00:AA:BB:CC:DD:EE:FF";

fn lines(fingerprint: &str) -> Vec<String> {
    vec![fingerprint.to_owned()]
}

fn offer(sdp: &str) -> SessionDescription {
    let json = serde_json::json!({ "type": "offer", "sdp": sdp }).to_string();
    SessionDescription::from_json(json).expect("json")
}

#[test]
fn the_word_list_has_256_different_words() {
    let listed: Vec<&str> = WORDS.split(' ').collect();
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 256);
    assert_eq!(sorted, listed, "the list is sorted");
    assert!(listed.iter().all(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase())));
    assert_eq!(word(0), "acid");
    assert_eq!((word(1), word(128), word(255)), ("acorn", "forest", "shadow"));
}

#[test]
fn both_sides_compute_the_same_code() {
    let (alice_lines, bob_lines) = (lines(ALICE_FINGERPRINT), lines(BOB_FINGERPRINT));
    let alice = Side { fingerprints: &alice_lines, nonce: &nonce(1) };
    let bob = Side { fingerprints: &bob_lines, nonce: &nonce(2) };
    let at_alice = verification_code(&alice, &bob);
    let at_bob = verification_code(&bob, &alice);
    assert_eq!(at_alice, at_bob);
    let words = at_alice.to_string();
    assert_eq!(words.split(' ').count(), CODE_WORDS, "{words}");
    assert!(words.split(' ').all(|shown| WORDS.split(' ').any(|listed| listed == shown)), "{words}");
}

#[test]
fn the_code_changes_with_either_fingerprint_or_either_nonce() {
    let (alice_lines, bob_lines) = (lines(ALICE_FINGERPRINT), lines(BOB_FINGERPRINT));
    let other_lines = lines(&ALICE_FINGERPRINT.replace("AA:BB", "AA:BC"));
    let code = |alice_lines: &[String], alice_nonce: u8, bob_lines: &[String], bob_nonce: u8| {
        verification_code(
            &Side { fingerprints: alice_lines, nonce: &nonce(alice_nonce) },
            &Side { fingerprints: bob_lines, nonce: &nonce(bob_nonce) },
        )
    };
    let original = code(&alice_lines, 1, &bob_lines, 2);
    assert_ne!(code(&other_lines, 1, &bob_lines, 2), original, "our fingerprint");
    assert_ne!(code(&alice_lines, 1, &other_lines, 2), original, "their fingerprint");
    assert_ne!(code(&alice_lines, 3, &bob_lines, 2), original, "our nonce");
    assert_ne!(code(&alice_lines, 1, &bob_lines, 3), original, "their nonce");
    // Swapping which nonce goes with which certificate is another code too.
    assert_ne!(code(&alice_lines, 2, &bob_lines, 1), original, "nonces bound to their side");
}

#[test]
fn a_reveal_opens_only_its_own_commitment() {
    let commitment = Commitment::to(&nonce(7));
    assert!(commitment.opens_with(&nonce(7)));
    assert!(!commitment.opens_with(&nonce(8)));
    let mut almost = nonce(7);
    almost.0[31] ^= 1;
    assert!(!commitment.opens_with(&almost), "one flipped bit is refused");
    assert_eq!(Commitment::from_hex(&commitment.to_hex()), Some(commitment));
    assert_eq!(Nonce::from_hex(&nonce(7).to_hex()), Some(nonce(7)));
    assert_eq!(Nonce::from_hex(&nonce(7).to_hex().to_uppercase()), Some(nonce(7)));
    assert_eq!(Nonce::from_hex("abc"), None);
    assert_eq!(Nonce::from_hex(&"zz".repeat(32)), None);
    assert_eq!(Nonce::from_hex(&"é".repeat(32)), None);
    assert_eq!(format!("{:?}", nonce(7)), "Nonce(..)", "a nonce is never printed");
}

#[test]
fn every_fingerprint_hash_function_and_every_line_is_read_sorted_and_normalised() {
    let sdp = "v=0\r\n\
        a=fingerprint:SHA-256 aa:bb:cc\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
        a=fingerprint:sha-1 01:02:03\r\n\
        a=fingerprint:sha-224 0a:0b\r\n\
        a=fingerprint:sha-384 0C:0D\r\n\
        a=fingerprint:sha-512 0E:0F\r\n\
        a=fingerprint:md5 10:11\r\n\
        a=fingerprint:md2 12:13\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96\r\n\
        a=fingerprint:sha-256 AA:BB:CC\r\n\
        a=fingerprint:sha-256 not-hex\r\n\
        a=fingerprint:sha-256\r\n";
    assert_eq!(
        fingerprints(sdp),
        vec![
            "md2 12:13",
            "md5 10:11",
            "sha-1 01:02:03",
            "sha-224 0A:0B",
            "sha-256 AA:BB:CC",
            "sha-384 0C:0D",
            "sha-512 0E:0F"
        ]
    );
    assert!(fingerprints("v=0\r\n").is_empty());
}

#[test]
fn several_fingerprint_lines_all_count_and_their_order_does_not() {
    let nonce_a = nonce(1);
    let nonce_b = nonce(2);
    let bob_lines = lines(BOB_FINGERPRINT);
    let both = fingerprints("a=fingerprint:sha-256 AA:01\na=fingerprint:sha-1 BB:02\n");
    let reordered = fingerprints("a=fingerprint:sha-1 bb:02\na=fingerprint:sha-256 aa:01\n");
    let one = fingerprints("a=fingerprint:sha-256 AA:01\n");
    let code = |alice_lines: &[String]| {
        verification_code(
            &Side { fingerprints: alice_lines, nonce: &nonce_a },
            &Side { fingerprints: &bob_lines, nonce: &nonce_b },
        )
    };
    assert_eq!(code(&both), code(&reordered));
    assert_ne!(code(&both), code(&one), "a second certificate line changes the code");
}

#[test]
fn the_commitment_travels_inside_the_offer_and_is_read_back() {
    let commitment = Commitment::to(&nonce(9));
    let plain = offer("v=0\r\na=fingerprint:sha-256 AB:CD\r\n");
    assert_eq!(description_commitment(&plain), None);
    let committed = with_commitment(&plain, &commitment);
    assert_eq!(description_commitment(&committed), Some(commitment));
    let fields: serde_json::Value = serde_json::from_str(committed.as_json()).expect("json");
    assert_eq!(fields["type"], "offer");
    assert_eq!(fields["sdp"], "v=0\r\na=fingerprint:sha-256 AB:CD\r\n");
    assert_eq!(fields[COMMITMENT_FIELD], commitment.to_hex());
    assert_eq!(description_fingerprints(&committed), vec!["sha-256 AB:CD".to_owned()]);
    // Anything but 64 hex digits is no commitment.
    let bad = SessionDescription::from_json(r#"{"type":"answer","sdp":"","duetCommitment":"12"}"#).expect("json");
    assert_eq!(description_commitment(&bad), None);
    let not_an_object = SessionDescription::from_json("[1]").expect("json");
    assert_eq!(with_commitment(&not_an_object, &commitment), not_an_object);
    assert!(description_fingerprints(&not_an_object).is_empty());
}

/// What the app wrote before `protocol::json`: the object read into serde_json's map, the
/// field inserted, the map written back.
fn with_commitment_through_serde_json(description: &SessionDescription, commitment: &Commitment) -> String {
    let mut fields: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(description.as_json()).expect("an object");
    fields.insert(COMMITMENT_FIELD.to_owned(), serde_json::Value::String(commitment.to_hex()));
    serde_json::to_string(&fields).expect("serializes")
}

#[test]
fn the_committed_description_is_written_byte_for_byte_as_serde_json_wrote_it() {
    let commitment = Commitment::to(&nonce(3));
    let browser_sdp = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
                       a=fingerprint:sha-256 AB:CD\r\na=ice-ufrag:x/Y+\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
    let descriptions = [
        offer(browser_sdp),
        SessionDescription::from_json(serde_json::json!({ "type": "answer", "sdp": browser_sdp }).to_string())
            .expect("json"),
        SessionDescription::from_json(r#"{"sdp":"tab\tquote\"é🎈\u0001","type":"offer","duetCommitment":"old"}"#)
            .expect("json"),
        SessionDescription::from_json(r#"{"type":"rollback"}"#).expect("json"),
        SessionDescription::from_json("{}").expect("json"),
    ];
    for description in descriptions {
        assert_eq!(
            with_commitment(&description, &commitment).as_json(),
            with_commitment_through_serde_json(&description, &commitment),
            "{}",
            description.as_json()
        );
    }
}
