//! Telnyx's media stream through the media contract: its emulator's side of a stream in each
//! format it carries (PCMU and PCMA at 8 kHz), against the adapter's protocol.

telephony_testkit::media_contract!(telephony_testkit::contract::media::MediaCarrier::emulated(
    "telnyx"
));
