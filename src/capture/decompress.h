// wsdiag — compressed capture files (.pcap.gz, .pcapng.gz, .pcap.zst, ...): recognised by their
// magic bytes whatever the name, and decompressed as libpcap reads, through a cookie FILE, so memory
// stays bounded (the decoder's window and one input buffer) however big the capture.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace wsdiag::capture {

enum class Compression : std::uint8_t { none, gzip, zstd };

/// What the file's first bytes say it is (none for a plain capture or an unreadable file).
Compression sniff_compression(const std::string& path);
const char* to_string(Compression c) noexcept;

/// The decompressing stream behind a cookie FILE (owned by that FILE: fclose frees it).
struct CompressedStream;

/// Opens `path` for reading through its decompressor; nullptr with `err` set when it cannot.
std::FILE* open_decompressed(const std::string& path, Compression c, CompressedStream*& stream, std::string& err);

/// Compressed bytes consumed so far (progress against the file's size).
std::int64_t compressed_offset(const CompressedStream* stream) noexcept;

}  // namespace wsdiag::capture
