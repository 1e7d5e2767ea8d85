// wsdiag — command line options: the CLI11 definitions, --fail-on, checks across options.
#include "wsdiag/cli/options.h"
#include "wsdiag/cli/version.h"

#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <string>

#include "wsdiag/cli/cli.h"

namespace wsdiag::cli {

Limits Options::limits() const noexcept {
  Limits l;
  l.max_connections = max_connections;
  l.ooo_bytes_per_dir = ooo_bytes;
  return l;
}

std::optional<FailOn> FailOn::parse(const std::string& list, std::string& bad) {
  FailOn f;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const auto comma = list.find(',', pos);
    std::string tok = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? list.size() + 1 : comma + 1;
    tok.erase(0, tok.find_first_not_of(" \t"));
    tok.erase(tok.find_last_not_of(" \t") + 1);
    if (tok.empty()) continue;
    if (std::all_of(tok.begin(), tok.end(), [](unsigned char c) { return std::isdigit(c) != 0; }) && tok.size() <= 4) {
      f.codes.push_back(static_cast<std::uint16_t>(std::stoi(tok)));
    } else if (tok == "error" || tok == "warning" || tok == "info") {
      // fail at this severity or worse; several keep the lowest threshold
      const int level = tok == "error" ? 2 : tok == "warning" ? 1 : 0;
      f.severity = f.severity < 0 ? level : std::min(f.severity, level);
    } else if (tok == "open") {
      f.open = true;
    } else if (tok == "handshake-failed" || tok == "handshake") {
      f.handshake_failed = true;
    } else if (auto r = diag::rule_by_name(tok)) {
      f.rules.push_back(*r);
    } else {
      bad = tok;
      return std::nullopt;
    }
  }
  return f;
}

bool FailOn::matches(const report::ConnReport& c) const {
  const auto& v = c.verdict;
  if (v.code && std::find(codes.begin(), codes.end(), *v.code) != codes.end()) return true;
  if (severity >= 0 && static_cast<int>(v.severity) >= severity) return true;
  if (open && v.name == "open") return true;
  if (handshake_failed && v.name == "handshake failed") return true;
  for (const auto& f : c.summary.findings) {
    if (std::find(rules.begin(), rules.end(), f.rule) != rules.end()) return true;
  }
  return false;
}

std::optional<int> parse_options(int argc, char** argv, Options& opt) {
  CLI::App app{"wsdiag: tells you why your WebSocket connections die, from a packet capture.\n"
               "Reads pcap/pcapng captures and gives each WebSocket connection a verdict (close code,\n"
               "who closed, the likely cause and how to fix it), with every RFC 6455 violation found."};
  app.set_version_flag("-V,--version", version_text());
  app.get_formatter()->column_width(34);
  std::vector<std::string> read_files;
  std::string fail_on;
  std::string only;
  app.add_option("files", opt.files, "pcap or pcapng capture files (\"-\" reads standard input)");
  app.add_option("-r,--read", read_files, "a capture file to read, as tcpdump's -r (may repeat)");
  app.add_option("-f,--filter", opt.filter, "BPF filter (libpcap syntax), e.g. 'tcp port 8080'");
  app.add_option("--format", opt.format, "report format: text, json, jsonl, markdown, table (a line per connection)")
      ->check(CLI::IsMember({"text", "json", "jsonl", "markdown", "table"}));
  app.add_option("-o,--output", opt.output, "write to FILE instead of standard output");
  app.add_option("--conn", opt.conn, "report only connection ID, in full detail");
  app.add_option("--ws-port", opt.ws_ports,
                 "treat TCP on PORT (or a range LOW-HIGH) as WebSocket even when the handshake was "
                 "not captured; may repeat")
      ->allow_extra_args(false)  // one value per occurrence: a capture file after it is not a port
      ->delimiter(',')
      ->check([](const std::string& v) {
        session::PortRanges p;
        return p.add(v) ? std::string() : "not a port or a range LOW-HIGH: " + v;
      });
  app.add_option("--tls-keylog", opt.tls_keylog,
                 "TLS key log (NSS SSLKEYLOGFILE format) to decrypt wss:// (default: $SSLKEYLOGFILE; pcapng "
                 "Decryption Secrets Blocks are read too)");
  app.add_option("--fail-on", fail_on,
                 "exit 1 if a connection matches: close codes (1006), severities (error, warning), "
                 "rule ids (client-unmasked), open, handshake-failed; comma-separated");
  app.add_option("--only", only,
                 "report only the connections that match, as --fail-on reads it (e.g. 1006,handshake-failed)");
  app.add_option("--save-pcap", opt.save_pcap,
                 "write the packets of the reported connections (after --conn, --only) to FILE (pcap)");
  app.add_flag("--all", opt.all, "also list TCP connections that are not WebSocket");
  // Redaction (report/redact.h; issue #13): on by default in every output.
  bool no_redact = false;
  app.add_flag("--no-redact", no_redact,
               "show everything: query values, credential subprotocols, full capture paths, previews");
  app.add_flag("--anonymize", opt.redact.anonymize, "replace IP addresses by pseudonyms (addr-N), ports kept");
  app.add_flag("--payload", opt.redact.payload, "show message previews in --frames (hidden by default)");
  app.add_flag("--frames", opt.frames, "list every WebSocket frame (TSV) instead of the report");
  app.add_option("--streams", opt.streams_dir, "write each reassembled TCP direction to DIR, with DIR/index.tsv");
  app.add_option("--color", opt.color, "colour in the text report: auto, always, never (NO_COLOR is honoured)")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  app.add_option("--max-connections", opt.max_connections,
                 "connections tracked at once; the least recently active is evicted beyond this")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}));
  app.add_option("--ooo-limit", opt.ooo_bytes, "out-of-order bytes buffered per direction before giving up a hole")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30));
  bool no_progress = false;
  app.add_flag("--no-progress", no_progress, "no progress bar on stderr");
  app.add_option("--threads", opt.threads,
                 "analysis threads for capture files (default 0: one per core, at most 8, for inputs over "
                 "16 MB; 1: single-threaded)")
      ->check(CLI::Range(0u, 64u));
  app.add_flag("--rules", opt.list_rules, "list every rule id wsdiag checks (severity, RFC section, title) and exit");
  // Live capture (live.h): -i IFACE sniffs and reports each connection as it ends.
  auto& live = opt.live;
  bool no_promisc = false;
  app.add_option("-i,--interface", live.capture.device, "capture live on IFACE (\"any\": every interface)")
      ->group("Live capture");
  app.add_flag("-D,--list-interfaces", opt.list_interfaces, "list the interfaces wsdiag can capture on and exit")
      ->group("Live capture");
  app.add_option("-s,--snaplen", live.capture.snaplen, "bytes kept per packet (default 262144: whole payloads)")
      ->check(CLI::Range(64, 262144))->group("Live capture");
  app.add_option("-B,--buffer-size", live.capture.buffer_kib, "kernel capture buffer in KiB (default 32768)")
      ->check(CLI::Range(1, 4 * 1024 * 1024))->group("Live capture");
  app.add_flag("-p,--no-promiscuous-mode", no_promisc, "do not put the interface in promiscuous mode")
      ->group("Live capture");
  app.add_option("-c,--count", live.count, "stop after COUNT packets")->group("Live capture");
  app.add_option("--duration", live.duration_s, "stop after SECONDS")
      ->check(CLI::NonNegativeNumber)->group("Live capture");
  app.add_option("-w,--write", live.write_file, "also save the raw packets to FILE (pcap)")->group("Live capture");
  app.add_option("-Z,--relinquish-privileges", live.user,
                 "after opening the capture, run as USER (default when root: nobody; \"root\" keeps root)")
      ->group("Live capture");
  app.add_option("--idle-timeout", live.idle_timeout_s,
                 "report and forget connections idle for SECONDS (default 300; 0 = never)")
      ->check(CLI::NonNegativeNumber)->group("Live capture");
  app.add_option("--metrics", live.metrics,
                 "serve Prometheus metrics at http://ADDR:PORT/metrics while capturing (e.g. 127.0.0.1:9406)")
      ->group("Live capture");
  try {
    app.parse(argc, argv);
    for (const auto& spec : opt.ws_ports) opt.ws_port_set.add(spec);  // checked by the option
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    fmt::print(stderr, "wsdiag: {}\nTry 'wsdiag --help'.\n", e.what());
    return kExitError;
  }
  opt.progress = !no_progress;
  opt.redact.redact = !no_redact;
  opt.format_given = app.get_option("--format")->count() != 0;
  live.capture.promiscuous = !no_promisc;
  if (opt.list_rules || opt.list_interfaces) return std::nullopt;

  opt.files.insert(opt.files.end(), read_files.begin(), read_files.end());
  if (opt.is_live() && !opt.files.empty()) {
    fmt::print(stderr, "wsdiag: -i {}: give either an interface or capture files, not both\n", live.capture.device);
    return kExitError;
  }
  if (opt.files.empty() && !opt.is_live()) {
    fmt::print(stderr, "wsdiag: no capture file given\nTry 'wsdiag --help'.\n");
    return kExitError;
  }
  if (std::count(opt.files.begin(), opt.files.end(), "-") > 1) {
    fmt::print(stderr, "wsdiag: -: standard input can be read only once\n");
    return kExitError;
  }
  if (!fail_on.empty()) {
    std::string bad;
    opt.fail_on = FailOn::parse(fail_on, bad);
    if (!opt.fail_on) {
      fmt::print(stderr, "wsdiag: --fail-on: unknown condition '{}' (close code, error, warning, rule id, open, "
                         "handshake-failed)\n", bad);
      return kExitError;
    }
  }
  if (!only.empty()) {
    std::string bad;
    opt.only = FailOn::parse(only, bad);
    if (!opt.only) {
      fmt::print(stderr, "wsdiag: --only: unknown condition '{}' (close code, error, warning, rule id, open, "
                         "handshake-failed)\n", bad);
      return kExitError;
    }
  }
  if (opt.only && opt.frames) {
    fmt::print(stderr, "wsdiag: error: --only needs each connection's diagnosis, made when it ends; --frames "
                       "lists frames as they come (use --conn ID)\n");
    return kExitError;
  }
  if (!opt.save_pcap.empty() && (opt.is_live() || opt.frames || !opt.streams_dir.empty())) {
    fmt::print(stderr, "wsdiag: error: --save-pcap works with a report of capture files (live: -w FILE saves "
                       "the packets)\n");
    return kExitError;
  }
  if (!opt.save_pcap.empty() && std::find(opt.files.begin(), opt.files.end(), "-") != opt.files.end()) {
    fmt::print(stderr, "wsdiag: error: --save-pcap reads the capture files a second time: not standard input\n");
    return kExitError;
  }
  // Options that would do nothing here are refused, with the reason (issue #13 §4).
  if (!opt.is_live()) {
    for (const char* name : {"--write", "--duration", "--relinquish-privileges"}) {
      if (app.get_option(name)->count() != 0) {
        fmt::print(stderr, "wsdiag: error: {} applies to a live capture (-i IFACE) only, not to capture files\n", name);
        return kExitError;
      }
    }
  }
  if (app.get_option("--conn")->count() != 0 && opt.conn == 0) {
    fmt::print(stderr, "wsdiag: error: --conn 0: connection ids start at 1\n");
    return kExitError;
  }
  if (opt.frames && opt.format_given && opt.format != "text") {
    fmt::print(stderr, "wsdiag: error: --frames writes TSV lines; --format {} does not apply to it\n", opt.format);
    return kExitError;
  }
  if (!live.metrics.empty() && !opt.is_live()) {
    fmt::print(stderr, "wsdiag: --metrics {}: metrics are served in live mode (-i IFACE)\n", live.metrics);
    return kExitError;
  }
  if (opt.is_live() && !opt.streams_dir.empty()) {
    fmt::print(stderr, "wsdiag: --streams works on capture files; save with -w FILE first\n");
    return kExitError;
  }
  return std::nullopt;
}

}  // namespace wsdiag::cli
