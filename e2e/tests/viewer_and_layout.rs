//! Browser test of the keyboard, the bigger views, the installable app and the phone layout in
//! real Chromium: Ctrl+D mutes and Ctrl+E turns the camera off (shown in the buttons' titles,
//! seen by the other side), Tab shows a visible focus ring, **Full screen** puts the remote video
//! full screen, **Picture in picture** pops it out, the web app manifest is served as
//! `application/manifest+json` with its icons, and in a call on a phone-sized window, upright
//! and sideways, the video, the media buttons, **Hang up** and **Do not disturb** are on screen
//! and not covered, with nothing wider than the screen. Saves the in-call screenshots (`in-call-*.png`, `phone-*.png`).
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::devtools::emulate_viewport;
use common::*;
use fantoccini::Locator;
use serde_json::json;

/// Sends `keys` (WebDriver key codes allowed) to the button named `name`.
async fn keys_to_button(person: &Person, name: &str, keys: &str) {
    let xpath = format!("//button[normalize-space(.)='{name}']");
    let button = person.find_within_step_timeout(&format!("a {name:?} button"), Locator::XPath(&xpath)).await;
    button.send_keys(keys).await.unwrap_or_else(|error| panic!("{}: keys to {name:?} failed: {error}", person.name));
}

/// True when every element matched by each selector is inside the viewport, and the page is no
/// wider than the window; else a description of what is not.
const FITS_ON_SCREEN: &str = "
    const problems = [];
    if (document.documentElement.scrollWidth > innerWidth) problems.push(`page ${document.documentElement.scrollWidth}px wide in ${innerWidth}px`);
    const wanted = ['video[aria-label=\"Remote video\"]', 'video[aria-label=\"Your camera\"]', '.media-bar button', '.controls button', 'button.do-not-disturb'];
    if (!document.querySelector('button.do-not-disturb')) problems.push('no Do not disturb button');
    for (const selector of wanted) {
        for (const element of document.querySelectorAll(selector)) {
            const box = element.getBoundingClientRect();
            if (box.width === 0 || box.left < 0 || box.top < 0 || box.right > innerWidth + 0.5 || box.bottom > innerHeight + 0.5) {
                problems.push(`${selector} '${element.textContent.trim()}' at ${Math.round(box.left)},${Math.round(box.top)}-${Math.round(box.right)},${Math.round(box.bottom)} in ${innerWidth}x${innerHeight}`);
            }
            // On screen and not covered by anything else: a click there reaches it.
            const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
            if (box.width > 0 && selector.endsWith('button') && !(hit && element.contains(hit))) {
                problems.push(`${selector} '${element.textContent.trim()}' is covered by ${hit ? hit.outerHTML.slice(0, 80) : 'nothing'}`);
            }
        }
    }
    return problems.length ? problems.join('; ') : 'fits';";

async fn check_fits(person: &Person, width: u32, height: u32, screenshot: &str) {
    // Headless Chromium counts its (invisible) window chrome in the emulated height: ask for
    // that much more, so the page itself gets the phone's viewport.
    emulate_viewport(person, width, height).await;
    person
        .wait_for("the emulated screen", &format!("return outerWidth === {width} && outerHeight === {height};"))
        .await;
    let chrome = person.run_script("return outerHeight - innerHeight;", vec![]).await.as_u64().unwrap_or(0);
    emulate_viewport(person, width, height + u32::try_from(chrome).unwrap_or(0)).await;
    person
        .wait_for(
            &format!("a {width}x{height} viewport"),
            &format!("return innerWidth === {width} && innerHeight === {height};"),
        )
        .await;
    let verdict = person.run_script(FITS_ON_SCREEN, vec![]).await;
    person.save_screenshot(screenshot).await;
    assert_eq!(verdict.as_str(), Some("fits"), "{} at {width}x{height}", person.name);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_full_screen_picture_in_picture_manifest_and_phone_layout() {
    let people = two_people_signed_in(&[], &[]).await;
    let (alice, bob) = (&people.alice, &people.bob);
    people.alice_calls_bob().await;
    bob.wait_for_new_remote_frames().await;

    // The shortcuts, as the titles say.
    let titles = alice
        .run_script("return [...document.querySelectorAll('.media-bar button')].map(b => b.title).join('|');", vec![])
        .await;
    let titles = titles.as_str().unwrap_or_default().to_owned();
    assert!(titles.contains("Mute (Ctrl+D)") && titles.contains("Turn camera off (Ctrl+E)"), "{titles}");
    keys_to_button(alice, "Mute", "\u{E009}d\u{E000}").await;
    bob.wait_for_remote_indicator("alice is muted", true).await;
    keys_to_button(alice, "Unmute", "\u{E009}e\u{E000}").await;
    bob.wait_for_remote_indicator("alice turned the camera off", true).await;
    bob.wait_for_remote_video_covered(true).await;
    bob.save_screenshot("in-call-bob.png").await;
    alice.click_enabled_button("Turn camera on").await;
    bob.wait_for_remote_video_covered(false).await;

    // Tab moves the focus to the next control, with a visible ring.
    keys_to_button(alice, "Unmute", "\u{E004}").await;
    alice
        .wait_for(
            "a visible focus ring on the next control",
            "const e = document.activeElement; return e && e.textContent.trim() === 'Turn camera off' \
                 && e.matches(':focus-visible') && getComputedStyle(e).outlineStyle !== 'none';",
        )
        .await;

    // Full screen and picture in picture.
    alice.click_button("Full screen").await;
    alice
        .wait_for(
            "the remote video full screen",
            "return !!document.fullscreenElement && document.fullscreenElement.classList.contains('remote-frame');",
        )
        .await;
    alice.run_script("document.exitFullscreen();", vec![]).await;
    alice.wait_for("full screen left", "return !document.fullscreenElement;").await;
    alice.click_button("Picture in picture").await;
    alice
        .wait_for(
            "the remote video in picture in picture",
            "const e = document.pictureInPictureElement; return !!e && e.getAttribute('aria-label') === 'Remote video';",
        )
        .await;
    alice.run_script("document.exitPictureInPicture();", vec![]).await;

    // Installable: the manifest with its content type, theme colour and icons.
    let manifest = alice
        .wait_for(
            "the manifest",
            "const link = document.querySelector('link[rel=manifest]'); \
             return fetch(link.href).then(async r => { const m = await r.json(); \
                 const icons = await Promise.all(m.icons.map(i => fetch(new URL(i.src, r.url)).then(f => `${f.status} ${f.headers.get('content-type')} ${i.sizes}`))); \
                 return [r.headers.get('content-type'), m.name, m.theme_color, m.display, ...icons].join('|'); });",
        )
        .await;
    assert_eq!(
        manifest.as_str(),
        Some("application/manifest+json|Duet|#2458d6|standalone|200 image/png 192x192|200 image/png 512x512")
    );
    let theme = alice.run_script("return document.querySelector('meta[name=theme-color]').content;", vec![]).await;
    assert_eq!(theme, json!("#2458d6"));

    // A phone, upright and sideways, in the call.
    check_fits(alice, 390, 844, "phone-portrait-alice.png").await;
    check_fits(alice, 844, 390, "phone-landscape-alice.png").await;

    alice.click_button("Hang up").await;
    bob.wait_for_phase("idle").await;
    people.close().await;
}
