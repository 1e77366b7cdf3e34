//! Decoding is total: whatever bytes arrive, the decoder answers with a message or a named
//! error, and never panics.

use game_loop::net::protocol::{
    self, DecodeError, EntityState, Frame, INPUT_LEN, Input, MAX_MESSAGE, MAX_SNAPSHOT_ENTITIES, Message, SnapshotHead,
    SnapshotWriter,
};
use proptest::prelude::*;

fn input() -> impl Strategy<Value = Input> {
    (any::<u32>(), any::<u32>(), any::<u16>()).prop_map(|(client, seq, bits)| Input { client, seq, bits })
}

fn entity() -> impl Strategy<Value = EntityState> {
    (any::<u32>(), any::<u16>(), any::<u16>(), any::<i8>(), any::<i8>()).prop_map(|(id, x, y, vx, vy)| EntityState {
        id,
        x,
        y,
        vx,
        vy,
    })
}

fn snapshot_bytes(head: SnapshotHead, entities: &[EntityState]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer = SnapshotWriter::begin(&mut out, head);
    for e in entities {
        writer.push(e);
    }
    writer.finish();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_decode_to_a_message_or_a_named_error(bytes in proptest::collection::vec(any::<u8>(), 0..1600)) {
        match protocol::decode(&bytes) {
            Ok(Message::Input(_)) => prop_assert_eq!(bytes.len(), INPUT_LEN),
            Ok(Message::Snapshot(view)) => {
                prop_assert!(view.len() <= MAX_SNAPSHOT_ENTITIES);
                prop_assert_eq!(view.entities().count(), view.len());
            }
            Err(DecodeError::Oversized) => prop_assert!(bytes.len() > MAX_MESSAGE),
            Err(_) => {}
        }
        let _ = protocol::decode_input(&bytes);
        let _ = protocol::decode_snapshot(&bytes);
        match protocol::next_frame(&bytes) {
            Frame::Whole { consumed } => prop_assert!(consumed <= bytes.len()),
            Frame::Partial | Frame::Oversized => {}
        }
    }

    #[test]
    fn inputs_round_trip(input in input()) {
        let mut out = Vec::new();
        protocol::encode_input(&input, &mut out);
        prop_assert_eq!(protocol::decode_input(&out), Ok(input));
    }

    #[test]
    fn snapshots_round_trip(client: u32, tick: u32, ack: u32, entities in proptest::collection::vec(entity(), 0..80)) {
        let head = SnapshotHead { client, tick, ack };
        let bytes = snapshot_bytes(head, &entities);
        let view = protocol::decode_snapshot(&bytes).expect("a snapshot we built decodes");
        prop_assert_eq!(view.head, head);
        let kept: Vec<EntityState> = view.entities().collect();
        prop_assert_eq!(&kept[..], &entities[..entities.len().min(MAX_SNAPSHOT_ENTITIES)]);
    }

    /// Damage to a valid message (a byte changed, bytes cut or added) never panics the
    /// decoder, and cutting one short is always caught.
    #[test]
    fn damaged_messages_are_caught(
        entities in proptest::collection::vec(entity(), 0..10),
        at in any::<prop::sample::Index>(),
        byte: u8,
        cut in 1usize..40,
        extra in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        let valid = snapshot_bytes(SnapshotHead { client: 1, tick: 2, ack: 3 }, &entities);
        let mut flipped = valid.clone();
        flipped[at.index(valid.len())] = byte;
        let _ = protocol::decode(&flipped);
        let short = &valid[..valid.len().saturating_sub(cut)];
        prop_assert!(protocol::decode(short).is_err());
        let mut long = valid.clone();
        long.extend(&extra);
        prop_assert!(protocol::decode(&long).is_err());
    }
}
