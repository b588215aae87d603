// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/http/router.h"
#include "appliance/http/static_assets.h"
#include "appliance/soap/xml_guard.h"

#include "tests/appliance/test_support.h"

#include <boost/test/unit_test.hpp>

#include <fstream>

using namespace vsa::appliance;

namespace {

void write(std::filesystem::path const& path, std::string const& text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

} // namespace

BOOST_AUTO_TEST_SUITE(static_assets)

BOOST_AUTO_TEST_CASE(loads_a_tree_with_types_and_etags) {
    vsa::test::TempDir dir;
    write(dir.path() / "index.html", "<!doctype html><title>x</title>");
    write(dir.path() / "js" / "app.js", "export const a = 1;");
    write(dir.path() / "css" / "style.css", "body{}");
    write(dir.path() / "favicon.svg", "<svg/>");
    write(dir.path() / ".hidden", "secret");
    write(dir.path() / "js" / ".swp", "secret");
    auto loaded = StaticAssets::load(dir.path());
    BOOST_REQUIRE(loaded.has_value());
    auto const& assets = loaded.value();
    BOOST_TEST(assets.size() == 4u);
    BOOST_REQUIRE(assets.find("/") != nullptr);
    BOOST_TEST(assets.find("/")->content_type == "text/html; charset=utf-8");
    BOOST_TEST(assets.find("/js/app.js")->content_type == "application/javascript; charset=utf-8");
    BOOST_TEST(assets.find("/css/style.css")->content_type == "text/css; charset=utf-8");
    BOOST_TEST(assets.find("/favicon.svg")->content_type == "image/svg+xml");
    BOOST_TEST(assets.find("/.hidden") == nullptr);
    BOOST_TEST(assets.find("/js/../index.html") == nullptr); // no path resolution at all
    BOOST_TEST(assets.find("/../../etc/passwd") == nullptr);
    BOOST_TEST(assets.find("/index.html")->etag != assets.find("/js/app.js")->etag);
    BOOST_TEST(assets.find("/index.html")->etag.front() == '"');
}

BOOST_AUTO_TEST_CASE(a_missing_root_is_an_error) {
    BOOST_TEST(StaticAssets::load("/nonexistent/vsa/web").is_error());
}

BOOST_AUTO_TEST_CASE(the_project_web_root_loads) {
    auto loaded = StaticAssets::load(std::filesystem::path(VSA_SOURCE_DIR) / "web");
    BOOST_REQUIRE(loaded.has_value());
    BOOST_TEST(loaded.value().find("/login.html") != nullptr);
    BOOST_TEST(loaded.value().find("/index.html") != nullptr);
}

BOOST_AUTO_TEST_CASE(markup_declarations_are_found_in_any_case) {
    BOOST_TEST(has_markup_declaration("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x/>"));
    BOOST_TEST(has_markup_declaration("<!doctype x><x/>"));
    BOOST_TEST(has_markup_declaration("<x><!ENTITY y SYSTEM 'file:///etc/passwd'></x>"));
    BOOST_TEST(has_markup_declaration("<! DOCTYPE x>"));
    BOOST_TEST(has_markup_declaration("<!ELEMENT x ANY>"));
    BOOST_TEST(!has_markup_declaration("<x><!-- <DOCTYPE --><![CDATA[ text ]]></x>"));
    BOOST_TEST(!has_markup_declaration("<x>&lt;!DOCTYPE</x>"));
    BOOST_TEST(!has_markup_declaration(""));
    BOOST_TEST(!has_markup_declaration("<!"));
}

BOOST_AUTO_TEST_CASE(soap_content_types) {
    BOOST_TEST(is_soap_content_type("text/xml"));
    BOOST_TEST(is_soap_content_type("text/xml; charset=utf-8"));
    BOOST_TEST(is_soap_content_type("Application/SOAP+XML;charset=utf-8;action=\"x\""));
    BOOST_TEST(!is_soap_content_type("text/plain"));
    BOOST_TEST(!is_soap_content_type("application/x-www-form-urlencoded"));
    BOOST_TEST(!is_soap_content_type(""));
}

BOOST_AUTO_TEST_CASE(nesting_depth_is_measured_over_the_whole_document) {
    auto nest = [](int levels, std::string const& open = "<a>", std::string const& close = "</a>") {
        std::string s;
        for (int i = 0; i < levels; ++i)
            s += open;
        for (int i = 0; i < levels; ++i)
            s += close;
        return s;
    };
    BOOST_TEST(!xml_depth_exceeds(nest(32), 32));
    BOOST_TEST(xml_depth_exceeds(nest(33), 32));
    BOOST_TEST(xml_depth_exceeds(nest(100000), 32));
    BOOST_TEST(!xml_depth_exceeds(nest(1000, "<a/>", ""), 2)); // empty elements do not nest
    BOOST_TEST(
        !xml_depth_exceeds("<a x='>' y=\"/>\"><b>text &lt; <!-- <c><d><e> --><![CDATA[<f><g>]]></b></a>", 2));
    BOOST_TEST(!xml_depth_exceeds("<?xml version='1.0'?><a></a>", 1));
    // Malformed input is left to the decoder, which faults with a reason.
    BOOST_TEST(!xml_depth_exceeds("<a x='unterminated>", 10));
    BOOST_TEST(!xml_depth_exceeds("<a><!-- never closed", 10));
    BOOST_TEST(xml_depth_exceeds("<a><a><a><!-- never closed", 2));
    BOOST_TEST(!xml_depth_exceeds("", 1));
}

BOOST_AUTO_TEST_CASE(sanitized_text_is_valid_xml_utf8) {
    BOOST_TEST(sanitize_xml_text("plain text\twith tab") == "plain text\twith tab");
    BOOST_TEST(sanitize_xml_text("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") ==
               "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    BOOST_TEST(sanitize_xml_text(std::string("a\x01"
                                             "b\0"
                                             "c",
                                             5)) == "a\xEF\xBF\xBD"
                                                    "b\xEF\xBF\xBD"
                                                    "c");
    BOOST_TEST(sanitize_xml_text("\xC3") == "\xEF\xBF\xBD"); // truncated sequence
    BOOST_TEST(sanitize_xml_text("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); // surrogate
    BOOST_TEST(sanitize_xml_text("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");                 // overlong '/'
    BOOST_TEST(sanitize_xml_text("\xEF\xBF\xBF") == "\xEF\xBF\xBD");                         // U+FFFF
    // Cut on a character boundary, never inside one.
    BOOST_TEST(sanitize_xml_text("a\xC3\xA9\xC3\xA9", 4) == "a\xC3\xA9");
}

BOOST_AUTO_TEST_CASE(wsdl_address_follows_a_valid_host_only) {
    BOOST_TEST(is_valid_host_header("127.0.0.1:8443"));
    BOOST_TEST(is_valid_host_header("[::1]:8443"));
    BOOST_TEST(is_valid_host_header("vsa.example.org"));
    BOOST_TEST(!is_valid_host_header(""));
    BOOST_TEST(!is_valid_host_header("evil\"/><x"));
    BOOST_TEST(!is_valid_host_header("a b"));
    BOOST_TEST(!is_valid_host_header(std::string(300, 'a')));
    std::string wsdl = "<soap:address location=\"https://localhost:8443/VirtualServer\"/>";
    BOOST_TEST(wsdl_for_host(wsdl, "10.1.2.3:9443") ==
               "<soap:address location=\"https://10.1.2.3:9443/VirtualServer\"/>");
}

BOOST_AUTO_TEST_SUITE_END()
