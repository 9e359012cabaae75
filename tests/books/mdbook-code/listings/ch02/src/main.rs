use std::collections::BTreeMap;
use std::env;
use std::fs;

// ANCHOR: here
fn main() {
    let path = env::args().nth(1).expect("usage: wc-rs FILE");
    let text = fs::read_to_string(&path).expect("could not read the file");
    // ANCHOR: count
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for word in text.split_whitespace() {
        let word = word.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
        if !word.is_empty() {
            *counts.entry(word).or_insert(0) += 1;
        }
    }
    // ANCHOR_END: count
    report(&counts);
}
// ANCHOR_END: here

fn report(counts: &BTreeMap<String, usize>) {
    for (word, n) in counts {
        println!("{word:>20} {n}");
    }
}
