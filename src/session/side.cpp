// wsdiag — one direction of a WebSocket session: frame handler (RFC 6455 §5.2-§5.6), message
// assembly, inflating (RFC 7692), UTF-8, control frames and application heartbeats.
#include "session_internal.h"

namespace wsdiag::session {

std::optional<RuleId> WsSession::Side::first_control_framing_rule(const FrameHeader& h, bool deflate) const {
  if (h.payload_len > 125) return RuleId::control_too_long;
  if (!h.fin) return RuleId::control_fragmented;
  if (h.masked != (dir_ == Dir::c2s)) return dir_ == Dir::c2s ? RuleId::client_unmasked : RuleId::server_masked;
  // RSV1 on a control frame is wrong even with permessage-deflate, except where the handshake was
  // not captured and RSV1 is taken as deflate (no finding is recorded then either).
  if ((h.rsv & 3) != 0 || ((h.rsv & 4) != 0 && (deflate || !s_.forced_))) return RuleId::rsv_bits;
  return std::nullopt;
}

void WsSession::Side::on_frame_header(const FrameHeader& h, PacketRef at) {
  if (s_.probe_rejected_) return;  // the rest of a chunk parsed after the probe failed
  ++counters.frames;
  counters.payload_bytes += h.payload_len;
  frame_at = at;
  const char* name = ws::opcode_name(h.opcode);
  const bool deflate = s_.hs_.deflate.enabled;
  const bool control = ws::is_control_opcode(h.opcode);

  // RFC 6455 §5.1/§5.3: clients mask every frame, servers none.
  if (dir_ == Dir::c2s && !h.masked) add(RuleId::client_unmasked, at, "unmasked {} frame", name);
  if (dir_ == Dir::s2c && h.masked) add(RuleId::server_masked, at, "masked {} frame", name);
  // §5.2 and RFC 7692 §6: RSV1 only for permessage-deflate, on the first frame of a data message.
  if ((h.rsv & 3) != 0) {
    add(RuleId::rsv_bits, at, "RSV2/RSV3 set on a {} frame (rsv={})", name, h.rsv);
  }
  if ((h.rsv & 4) != 0) {
    if (!deflate && s_.forced_) {
      // Handshake not captured: RSV1 is taken as permessage-deflate and inflated where possible.
    } else if (!deflate) {
      add(RuleId::rsv_bits, at, "RSV1 set on a {} frame, but no extension was negotiated", name);
    } else if (control || h.opcode == op::continuation) {
      add(RuleId::rsv_bits, at,
          "RSV1 set on a {} frame: permessage-deflate allows it only on the first frame of a "
                      "data message",
                      name);
    }
  }
  if (ws::is_reserved_opcode(h.opcode)) add(RuleId::reserved_opcode, at, "reserved opcode 0x{:X}", h.opcode);
  if (h.length_not_minimal) {
    add(RuleId::length_not_minimal, at,
        "payload length {} sent in a {}-bit field", h.payload_len, h.len_field_bytes * 8);
  }
  if (h.length_msb_set) add(RuleId::length_msb, at, "64-bit payload length with its most significant bit set");

  frame_in_message = false;
  if (control) {
    ctrl.clear();
    ctrl.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(h.payload_len, kMaxControlKept)));
    ctrl_gap = false;
    ctrl_rule = first_control_framing_rule(h, deflate);
    if (h.payload_len > 125) {
      add(RuleId::control_too_long, at, "{} frame with a {}-byte payload", name, h.payload_len);
    }
    if (!h.fin) add(RuleId::control_fragmented, at, "{} frame without FIN", name);
    return;
  }
  if (ws::is_reserved_opcode(h.opcode)) return;

  // A data frame.
  if (close_sent) {
    add(RuleId::data_after_close, at, "{} frame after its own Close (packet {})", name, close_at.index);
  } else if (s_.side_[static_cast<int>(other(dir_))]->close_sent) {
    add(RuleId::frame_after_close_received, at, "{} frame after receiving a Close", name);
  }
  if (h.opcode == op::continuation) {
    if (!in_message) {
      add(RuleId::unexpected_continuation, at, "continuation frame with no fragmented message in progress");
      return;
    }
  } else {
    if (in_message) {
      add(RuleId::expected_continuation, at,
          "new {} frame while a fragmented {} message is in progress", name,
                      ws::opcode_name(msg_opcode));
    }
    in_message = true;
    msg_opcode = h.opcode;
    // Without a captured handshake, RSV1 on a data frame can only mean permessage-deflate.
    msg_compressed = (deflate || s_.forced_) && (h.rsv & 4) != 0;
    msg_unverifiable = false;
    msg_utf8_bad = false;
    msg_bytes = 0;
    msg_app_bytes = 0;
    preview_len = 0;
    msg_at = at;
    heartbeat.start(h.opcode, s_.hb_ctx_);
    utf8.reset();
    if (msg_compressed) {
      ++counters.compressed_messages;
      if (!inflater) {
        const auto& p = s_.hs_.deflate;
        const bool c2s = dir_ == Dir::c2s;
        // The sender's parameters: its window and whether it keeps its context between messages.
        const int bits = deflate ? (c2s ? p.client_max_window_bits : p.server_max_window_bits) : 15;
        const bool no_takeover = deflate && (c2s ? p.client_no_context_takeover : p.server_no_context_takeover);
        inflater = std::make_unique<ws::Inflater>(bits, no_takeover, s_.limits_->inflate_bytes_per_message);
      }
      inflater->begin_message();
      if (inflate_context_lost && inflater->context_takeover()) {
        msg_unverifiable = true;
      } else {
        inflate_context_lost = false;
      }
      if (inflater->status() == ws::Inflater::Status::no_context) msg_unverifiable = true;
    }
  }
  frame_in_message = true;
}

void WsSession::Side::on_frame_payload(const FrameHeader& h, Bytes data, std::uint64_t offset, PacketRef at) {
  if (s_.probe_rejected_) return;  // the rest of a chunk parsed after the probe failed
  if (ws::is_control_opcode(h.opcode)) {
    // Pieces arrive in order; after a gap (ctrl_gap) the payload is not used.
    if (offset == ctrl.size() && ctrl.size() < kMaxControlKept) {
      const std::size_t n = std::min<std::size_t>(data.size(), kMaxControlKept - ctrl.size());
      ctrl.insert(ctrl.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    }
    return;
  }
  if (!frame_in_message) return;
  msg_bytes += data.size();
  if (!msg_compressed) {
    message_data(data);
  } else if (!msg_unverifiable) {
    inflate_status(inflater->feed(data, *this), at);
  }
  if (msg_utf8_bad_new) {
    msg_utf8_bad_new = false;
    add(RuleId::invalid_utf8, at,
        "text message {} has invalid UTF-8 at byte {}{}", counters.messages + 1, utf8.error_offset(),
                    msg_compressed ? " (after inflating)" : "");
  }
}

void WsSession::Side::message_data(Bytes data) {
  msg_app_bytes += data.size();
  heartbeat.feed(data);
  if (msg_opcode != op::text) return;
  if (s_.opt_.frames != nullptr) {  // only --frames shows it
    if (!preview) preview = std::make_unique<std::array<char, 320>>();
  }
  if (preview && preview_len < preview->size()) {
    const std::size_t n = std::min(data.size(), preview->size() - preview_len);
    std::copy_n(data.begin(), n, preview->begin() + static_cast<std::ptrdiff_t>(preview_len));
    preview_len += n;
  }
  // Text is validated as it arrives, failing at the first bad byte (§8.1, §5.6; after inflating,
  // RFC 7692 §6).
  if (!msg_unverifiable && !msg_utf8_bad && !utf8.feed(data)) {
    msg_utf8_bad = true;
    msg_utf8_bad_new = true;
  }
}

void WsSession::Side::inflate_status(ws::Inflater::Status st, PacketRef at) {
  using St = ws::Inflater::Status;
  if (st == St::ok) return;
  msg_unverifiable = true;
  if (st == St::over_limit) {
    add(RuleId::message_too_big, at,
        "compressed message inflates past {} bytes: not inflated further", s_.limits_->inflate_bytes_per_message);
    inflate_context_lost = true;
  } else if (st == St::error && (s_.forced_ || s_.side_resumed(dir_))) {
    // Picked up mid-stream: the message may refer to data sent before the capture began.
    add(RuleId::compressed_unverified, at,
        "a compressed message could not be inflated: it needs context from before the capture started");
    inflate_context_lost = true;
  } else if (st == St::error) {
    add(RuleId::inflate_error, at, "compressed message does not inflate: {}", inflater->error_text());
    inflate_context_lost = true;
  } else {
    add(RuleId::compressed_unverified, at, "compressed message after an earlier inflate failure: not verifiable");
  }
}

void WsSession::Side::on_frame_gap(const FrameHeader& h, std::uint64_t, std::uint64_t, PacketRef) {
  if (s_.probe_rejected_) return;  // the rest of a chunk parsed after the probe failed
  if (ws::is_control_opcode(h.opcode)) {
    ctrl_gap = true;
  } else if (frame_in_message) {
    msg_unverifiable = true;
    if (msg_compressed) inflate_context_lost = true;  // the deflate stream cannot be followed past a hole
  }
}

void WsSession::Side::on_frame_end(const FrameHeader& h, PacketRef at) {
  if (s_.probe_rejected_) return;  // the rest of a chunk parsed after the probe failed
  const Bytes ctrl_payload(ctrl);
  const bool close_known = h.opcode == op::close && !ctrl_gap;
  const auto cp = ws::parse_close_payload(close_known ? ctrl_payload : Bytes{});
  if (s_.opt_.frames != nullptr) {  // --frames: only then is a record built
    FrameRecord rec = s_.frame_record(dir_, h, at, close_known ? &cp : nullptr);
    if (frame_in_message && h.fin) end_message(at, &rec);
    s_.emit_frame(std::move(rec));
  } else if (frame_in_message && h.fin) {
    end_message(at, nullptr);
  }

  if (close_known) {
    if (cp.malformed) add(RuleId::close_payload_1, at, "Close frame with a 1-byte payload");
    if (cp.has_code) {
      if (!diag::close_code_valid_on_wire(cp.code)) {
        add(RuleId::close_code_invalid, at, "Close with code {}", cp.code);
      }
      if (!ws::is_valid_utf8(cp.reason)) add(RuleId::close_reason_utf8, at, "Close reason is not valid UTF-8");
    }
    auto& cs = s_.close_;
    const auto me = diag::side_of(dir_);
    const bool valid = !ctrl_rule && !cp.malformed && (!cp.has_code || (diag::close_code_valid_on_wire(cp.code) &&
                                                           ws::is_valid_utf8(cp.reason)));
    if (valid && !cs.valid_seen) {
      cs.valid_seen = true;
      cs.valid_by = me;
      if (cp.has_code) cs.valid_code = cp.code;
      cs.valid_reason.assign(cp.reason.begin(), cp.reason.end());
      cs.valid_at = at;
    }
    if (!cs.seen) {
      cs.seen = true;
      cs.initiator = me;
      cs.valid = valid;
      cs.frame_rule = ctrl_rule;
      cs.payload_len = h.payload_len;
      if (cp.has_code) cs.code = cp.code;
      cs.reason.assign(cp.reason.begin(), cp.reason.end());
      cs.at = at;
    } else if (!cs.echoed && cs.initiator != me && !close_sent) {
      cs.echoed = true;
      if (cp.has_code) cs.echo_code = cp.code;
      cs.echo_at = at;
      if (cs.code && cp.has_code && *cs.code != cp.code) {
        add(RuleId::close_echo_mismatch, at, "answered Close {} with Close {}", *cs.code, cp.code);
      }
    }
    if (!close_sent) {
      s_.record_event(diag::WireEventKind::close, dir_, at,
                      cp.has_code ? std::optional<std::uint16_t>(cp.code) : std::nullopt);
      close_sent = true;
      close_at = at;
    }
  } else if (h.opcode == op::ping) {
    s_.record_event(diag::WireEventKind::ping, dir_, at);
    ++counters.pings;
    if (counters.first_ping.index == 0) counters.first_ping = at;
    counters.last_ping = at;
    if (n_pings == pings.size()) {
      if (pings.size() < kMaxPings) {
        if (pings.empty()) pings.reserve(1);  // not the vector's default first growth
        pings.emplace_back();
      } else {
        std::move(pings.begin() + 1, pings.end(), pings.begin());
        --n_pings;
        ++pings_forgotten;
      }
    }
    auto& p = pings[n_pings++];
    const std::size_t kept = std::min(ctrl_payload.size(), p.data.size());
    p.len = h.payload_len;
    std::copy_n(ctrl_payload.begin(), kept, p.data.begin());
    p.at = at;
  } else if (h.opcode == op::pong) {
    s_.record_event(diag::WireEventKind::pong, dir_, at);
    ++counters.pongs;
    // A Pong answers the Ping with the same payload, and with it every older one (§5.5.3 lets a
    // side answer only the most recent). An unsolicited Pong (no Ping outstanding) is a heartbeat.
    auto& peer = *s_.side_[static_cast<int>(other(dir_))];
    std::size_t match = peer.n_pings;
    for (std::size_t i = peer.n_pings; i-- > 0;) {
      if (peer.pings[i].answered_by(ctrl_payload, h.payload_len)) {
        match = i;
        break;
      }
    }
    if (match < peer.n_pings) {
      // Answers this Ping and every older one, remembered or not.
      std::move(peer.pings.begin() + static_cast<std::ptrdiff_t>(match + 1),
                peer.pings.begin() + static_cast<std::ptrdiff_t>(peer.n_pings), peer.pings.begin());
      peer.n_pings -= match + 1;
      peer.pings_forgotten = 0;
    } else if (peer.pings_forgotten > 0) {
      // Likely the answer to a Ping too old to be remembered (more than kMaxPings outstanding).
      --peer.pings_forgotten;
    } else if (peer.n_pings > 0 && !ctrl_gap) {
      add(RuleId::pong_mismatch, at,
          "Pong payload ({} bytes) matches no outstanding Ping (last Ping at packet {})",
                      ctrl_payload.size(), peer.pings[peer.n_pings - 1].at.index);
    }
  }


  frame_in_message = false;
  if (s_.probing_) {
    ++probe_frames;
    s_.probe_frame_done();
  }
}

void WsSession::Side::lose_framing(PacketRef at, const char* why) {
  const FrameHeader h = parser_.current_header();
  counters.payload_bytes -= parser_.payload_remaining();  // announced, never carried
  if (s_.opt_.frames != nullptr) s_.emit_frame(s_.frame_record(dir_, h, frame_at, nullptr));
  if (frame_in_message) {
    // The message's content is unknown: it is neither counted nor validated.
    in_message = false;
    msg_unverifiable = true;
  }
  frame_in_message = false;
  ctrl.clear();
  add(RuleId::ws_desync, at,
      "framing lost after the {} frame at packet {} announcing {} payload bytes ({}); resumed at packet {}",
      ws::opcode_name(h.opcode), frame_at.index, h.payload_len, why, at.index);
  desync_reported = true;
  parser_.resync();
  resumed = true;
}

void WsSession::Side::record_heartbeat(HeartbeatMatch m, PacketRef at) {
  if (m.kind == diag::AppHeartbeat::none) return;
  diag::AppHeartbeats& hb = counters.app;
  hb.kind = m.kind;
  if (m.role == HeartbeatRole::pong) {
    // An answer: to the peer's latest heartbeat, if it sent one since its last answered one.
    ++hb.answers;
    diag::AppHeartbeats& peer = s_.side_[static_cast<int>(other(dir_))]->counters.app;
    if (peer.last.index != 0) peer.last_answered = peer.last;
    return;
  }
  ++hb.sent;
  if (hb.first.index == 0) hb.first = at;
  hb.last = at;
}

void WsSession::Side::end_message(PacketRef at, FrameRecord* rec) {
  if (msg_compressed && !msg_unverifiable) inflate_status(inflater->end_message(*this), at);
  if (msg_utf8_bad_new) {
    msg_utf8_bad_new = false;
    add(RuleId::invalid_utf8, at,
        "text message {} has invalid UTF-8 at byte {}{}", counters.messages + 1, utf8.error_offset(),
                    msg_compressed ? " (after inflating)" : "");
  }
  ++counters.messages;
  counters.last_message = at;
  if (!msg_unverifiable) record_heartbeat(heartbeat.finish(msg_app_bytes), at);
  s_.last_message_ = at;
  // A compressed message that failed to inflate has no defined size: how much came out before the
  // failure depends on the backend and on where TCP cut the payload, so none of it is counted.
  const bool inflate_failed = msg_compressed && msg_unverifiable;
  if (!inflate_failed) {
    counters.message_bytes += msg_app_bytes;
    counters.max_message = std::max(counters.max_message, msg_app_bytes);
  }
  if (msg_opcode == op::text && !msg_unverifiable && !msg_utf8_bad && !utf8.finish()) {
    msg_utf8_bad = true;
    add(RuleId::invalid_utf8, at, "text message {} ends inside a UTF-8 sequence", counters.messages);
  }
  if (rec != nullptr && !msg_unverifiable) {
    rec->message_len = msg_app_bytes;
    if (msg_opcode == op::text) {
      // the first 80 characters (code points), as tshark previews text
      std::size_t end = 0;
      for (int chars = 0; end < preview_len; ++end) {
        if ((static_cast<unsigned char>((*preview)[end]) & 0xC0) != 0x80 && chars++ == 80) break;
      }
      if (preview) rec->text_preview.assign(preview->data(), end);
    }
  }
  in_message = false;
}

}  // namespace wsdiag::session
