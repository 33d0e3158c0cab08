//! The fixed list of 256 short, distinct, easy-to-say English words a verification code is read
//! in: each byte of the code picks one word. Changing this list changes every code, so both
//! sides of a call must use the same one (a different list would show as a mismatch).
//!
//! One string of words separated by single spaces rather than an array of `&str`: the wasm then
//! holds the letters alone, not a 2 KB table of pointers and lengths (BENCHMARKS.md, "Web app size").

/// 256 words, sorted, all different, each followed by one space but the last (tested); the
/// byte value `n` picks the `n`th word ([`word`]).
pub const WORDS: &str = concat!(
    "acid acorn actor adult agent alarm album alley amber angel ankle apple apron arena arrow atlas attic ",
    "aunt autumn avenue bacon badge bagel baker bamboo banana band banjo barn basil basket beach beard ",
    "beaver bell bench berry bike bird biscuit blade blanket bloom board boat bone book boot bottle bowl ",
    "brain brick bridge broom bubble bucket buffalo bunny butter cabin cable cactus camel candle canoe ",
    "canvas carpet carrot castle cat cedar cello chair chalk cherry chess chief cider circle clock cloud ",
    "clover coast cobra cocoa comet coral cotton cousin cowboy crab crane crayon cricket crown cube cup ",
    "daisy dancer desert diamond dinner doctor dolphin donkey door dragon drum duck eagle earth echo elbow ",
    "elephant ember engine fabric falcon farm feather fence fern fiddle finger fish flag flame flute forest ",
    "fossil fox frog fruit garden garlic gate giant ginger giraffe glass globe glove goat gold goose grape ",
    "grass guitar hammer harbor harp hat hawk heart hedge helmet hill honey horse hotel house island ivory ",
    "jacket jaguar jam jelly jewel judge juice kettle key king kite kitten koala ladder lake lamp lemon ",
    "lettuce library lily lion lizard lobster lotus magnet mango maple marble meadow melon mirror monkey ",
    "moon moose mountain mouse muffin mushroom needle nest night noodle north novel oak ocean olive onion ",
    "orange orbit otter owl paddle palace panda paper parrot peach peanut pearl pebble pencil pepper piano ",
    "pillow pilot pine planet plum pocket pony potato pumpkin puppet quilt rabbit radio rain raven ribbon ",
    "river robot rocket rose ruby saddle salad salmon sand scarf school seal shadow",
);

/// The word for one byte of the code.
pub fn word(byte: u8) -> &'static str {
    WORDS.split(' ').nth(usize::from(byte)).unwrap_or_default()
}
