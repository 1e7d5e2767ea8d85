#include "wsdiag/http/extensions.h"

#include <catch2/catch.hpp>
#include <string>

using namespace wsdiag::http;

TEST_CASE("parse_extensions: RFC 6455 §9.1 grammar", "[http]") {
  std::string error;
  const auto list = parse_extensions(
      "permessage-deflate; client_max_window_bits, permessage-deflate ;server_max_window_bits = "
      "\"10\""
      " , , x-webkit-deflate-frame",
      &error);
  REQUIRE(list);
  REQUIRE(list->size() == 3);
  CHECK((*list)[0].name == "permessage-deflate");
  REQUIRE((*list)[0].params.size() == 1);
  CHECK((*list)[0].params[0].name == "client_max_window_bits");
  CHECK_FALSE((*list)[0].params[0].value);
  REQUIRE((*list)[1].params.size() == 1);
  CHECK((*list)[1].params[0].value == "10");
  CHECK((*list)[2].name == "x-webkit-deflate-frame");
  CHECK(parse_extensions("")->empty());

  for (const char* bad :
       {"permessage-deflate;", "permessage-deflate; a=", "; a", "a b", "a; b=\"unterminated",
        "a; b=\"not a token\"", "a; b=\"x,y\"", "a;=1", "a, \"b\""}) {
    INFO(bad);
    CHECK_FALSE(parse_extensions(bad, &error));
    CHECK_FALSE(error.empty());
  }
}

namespace {
std::optional<DeflateElement> deflate(const char* text, DeflateRole role,
                                      std::string* err = nullptr) {
  const auto list = parse_extensions(text);
  REQUIRE(list);
  REQUIRE(list->size() == 1);
  return parse_deflate(list->front(), role, err);
}
}  // namespace

TEST_CASE("parse_deflate: parameter validity per role (RFC 7692 §7.1)", "[http]") {
  using R = DeflateRole;
  struct Case {
    const char* text;
    bool offer_ok;
    bool response_ok;
  };
  const Case cases[] = {
      {"permessage-deflate", true, true},
      {"permessage-deflate; server_no_context_takeover", true, true},
      {"permessage-deflate; client_no_context_takeover", true, true},
      {"permessage-deflate; server_no_context_takeover=1", false, false},
      {"permessage-deflate; client_no_context_takeover=\"x\"", false, false},
      {"permessage-deflate; server_no_context_takeover; server_no_context_takeover", false, false},
      {"permessage-deflate; server_max_window_bits=8", true, true},
      {"permessage-deflate; server_max_window_bits=15", true, true},
      {"permessage-deflate; server_max_window_bits=\"12\"", true, true},
      {"permessage-deflate; server_max_window_bits", false, false},
      {"permessage-deflate; server_max_window_bits=7", false, false},
      {"permessage-deflate; server_max_window_bits=16", false, false},
      {"permessage-deflate; server_max_window_bits=010", false, false},
      {"permessage-deflate; server_max_window_bits=1a", false, false},
      {"permessage-deflate; server_max_window_bits=9; server_max_window_bits=9", false, false},
      {"permessage-deflate; client_max_window_bits", true, false},
      {"permessage-deflate; client_max_window_bits=9", true, true},
      {"permessage-deflate; client_max_window_bits=0", false, false},
      {"permessage-deflate; client_max_window_bits; client_max_window_bits=10", false, false},
      {"permessage-deflate; mux", false, false},
      {"permessage-deflate; Server_No_Context_Takeover", false, false},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    std::string error;
    CHECK(deflate(c.text, R::offer, &error).has_value() == c.offer_ok);
    CHECK(deflate(c.text, R::response, &error).has_value() == c.response_ok);
    if (!c.response_ok) CHECK_FALSE(error.empty());
  }
  const auto all = deflate(
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
      "server_max_window_bits=10; client_max_window_bits=11",
      R::response);
  REQUIRE(all);
  CHECK(all->server_no_context_takeover);
  CHECK(all->client_no_context_takeover);
  CHECK(all->server_max_window_bits == 10);
  CHECK(all->client_max_window_bits_present);
  CHECK(all->client_max_window_bits == 11);
}

TEST_CASE("deflate_accepts and negotiated_deflate", "[http]") {
  using R = DeflateRole;
  struct Case {
    const char* offer;
    const char* response;
    bool ok;
    DeflateParams params;
  };
  const Case cases[] = {
      {"permessage-deflate", "permessage-deflate", true, {true, false, false, 15, 15}},
      {"permessage-deflate",
       "permessage-deflate; server_no_context_takeover",
       true,
       {true, true, false, 15, 15}},
      {"permessage-deflate",
       "permessage-deflate; client_no_context_takeover",
       true,
       {true, false, true, 15, 15}},
      {"permessage-deflate",
       "permessage-deflate; server_max_window_bits=11",
       true,
       {true, false, false, 11, 15}},
      {"permessage-deflate", "permessage-deflate; client_max_window_bits=11", false, {}},
      {"permessage-deflate; client_max_window_bits",
       "permessage-deflate; client_max_window_bits=11",
       true,
       {true, false, false, 15, 11}},
      {"permessage-deflate; client_max_window_bits=9",
       "permessage-deflate",
       true,
       {true, false, false, 15, 9}},
      {"permessage-deflate; client_max_window_bits=9",
       "permessage-deflate; client_max_window_bits=12",
       true,
       {true, false, false, 15, 9}},
      {"permessage-deflate; server_no_context_takeover", "permessage-deflate", false, {}},
      {"permessage-deflate; server_no_context_takeover",
       "permessage-deflate; server_no_context_takeover",
       true,
       {true, true, false, 15, 15}},
      {"permessage-deflate; server_max_window_bits=10", "permessage-deflate", false, {}},
      {"permessage-deflate; server_max_window_bits=10",
       "permessage-deflate; server_max_window_bits=12",
       false,
       {}},
      {"permessage-deflate; server_max_window_bits=10",
       "permessage-deflate; server_max_window_bits=10",
       true,
       {true, false, false, 10, 15}},
      {"permessage-deflate; server_max_window_bits=10",
       "permessage-deflate; server_max_window_bits=8",
       true,
       {true, false, false, 8, 15}},
  };
  for (const auto& c : cases) {
    INFO(c.offer << "  ->  " << c.response);
    const auto offer = deflate(c.offer, R::offer);
    const auto response = deflate(c.response, R::response);
    REQUIRE(offer);
    REQUIRE(response);
    std::string error;
    CHECK(deflate_accepts(*offer, *response, &error) == c.ok);
    if (c.ok) {
      CHECK(negotiated_deflate(&*offer, *response) == c.params);
    } else {
      CHECK_FALSE(error.empty());
    }
  }
}
