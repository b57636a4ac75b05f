// The building blocks on their own: CRC-32, the pickle writer's encodings, the unpickler's
// limits, and the zip reader on archives the zip writer produced.
#include <gtest/gtest.h>

#include <string>

#include "archive_builder.h"
#include "io/atomic_file_writer.h"
#include "io/crc32.h"
#include "io/pickle_writer.h"
#include "io/unpickler.h"
#include "io/zip_reader.h"
#include "io/zip_writer.h"

namespace anser {
namespace {

const PickleGlobalFilter kAllowAll = [](std::string_view, std::string_view) {
  return Status::Ok();
};

Result<PickleGraph> Parse(const std::string& bytes) {
  return Unpickle(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), kAllowAll);
}

TEST(Crc32, KnownValues) {
  EXPECT_EQ(Crc32Update(0, "123456789", 9), 0xCBF43926u);
  EXPECT_EQ(Crc32Update(0, "", 0), 0u);
  // Feeding in pieces equals feeding at once.
  EXPECT_EQ(Crc32Update(Crc32Update(0, "12345", 5), "6789", 4), 0xCBF43926u);
}

TEST(PickleWriter, IntegerEncodingsMatchCPython) {
  PickleWriter w;
  w.Int(255);
  w.Int(65535);
  w.Int(-1);
  w.Int(int64_t{1} << 31);
  w.Int(-(int64_t{1} << 40));
  // pickle.dumps(x, 2) opcodes for each value, in order.
  const std::string expected = std::string("\x80\x02K\xff" "M\xff\xff" "J\xff\xff\xff\xff", 12) +
                               std::string("\x8a\x05\x00\x00\x00\x80\x00", 7) +
                               std::string("\x8a\x06\x00\x00\x00\x00\x00\xff", 8);
  EXPECT_EQ(w.bytes(), expected);
}

TEST(PickleWriter, RoundTripsThroughUnpickler) {
  PickleWriter w;
  w.EmptyDict();
  w.Put();
  w.String("k");
  w.Int(int64_t{1} << 40);
  w.SetItem();
  w.Stop();
  auto g = Parse(w.bytes());
  ASSERT_TRUE(g.ok()) << g.message();
  ASSERT_EQ(g->root().kind, PickleKind::kDict);
  ASSERT_EQ(g->root().items.size(), 2u);
  EXPECT_EQ(g->object(g->root().items[0]).text, "k");
  EXPECT_EQ(g->object(g->root().items[1]).int_value, int64_t{1} << 40);
}

TEST(Unpickler, ErrorsInsteadOfCrashes) {
  for (const std::string& bad : {
           std::string(""),
           std::string("\x80\x09.", 3),           // unknown protocol
           std::string("\x80\x02h\x05.", 5),      // BINGET of a missing memo entry
           std::string("\x80\x02t.", 4),          // TUPLE without MARK
           std::string("\x80\x02\x85.", 4),       // TUPLE1 on an empty stack
           std::string("\x80\x02K\x01K\x02s.", 8),  // SETITEM on an int
           std::string("\x80\x02\x8a\x09", 4),    // LONG1 too wide
           std::string("\x80\x02X\xff\xff\xff\x7f", 7),  // string past the end
           std::string("\x80\x02\xff.", 4),       // unknown opcode
           std::string("\x80\x02)", 3),           // no STOP
           std::string(5000, '('),                // MARKs nested too deeply
       }) {
    EXPECT_FALSE(Parse(bad).ok()) << bad.size();
  }
}

TEST(Unpickler, SharedAndCyclicReferencesAreCheap) {
  // A list appended to itself, then 10000 BINGETs of it into another list.
  std::string p("\x80\x02]q\x00h\x00" "a]q\x01(", 12);
  for (int i = 0; i < 10000; ++i) p += std::string("h\x00", 2);
  p += "e.";
  auto g = Parse(p);
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(g->root().items.size(), 10000u);
}

TEST(ZipWriterReader, RoundTripWithAlignment) {
  const std::string path = testing_io::TestDir() + "/a.zip";
  AtomicFileWriter out;
  ASSERT_TRUE(out.Open(path).ok());
  ZipWriter zip(&out);
  const std::string a = "hello", b(1000, 'b');
  ASSERT_TRUE(zip.AddEntry("top/a", a.data(), a.size()).ok());
  ASSERT_TRUE(zip.AddEntry("top/empty", nullptr, 0).ok());
  ASSERT_TRUE(zip.AddEntry("top/b", b.data(), b.size()).ok());
  ASSERT_TRUE(zip.Finish().ok());
  ASSERT_TRUE(out.Commit().ok());
  const std::string bytes = testing_io::ReadBytes(path);
  auto entries = ReadZipDirectory(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  ASSERT_TRUE(entries.ok()) << entries.message();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[2].name, "top/b");
  EXPECT_EQ(bytes.substr((*entries)[2].data_offset, (*entries)[2].size), b);
  for (const ZipEntry& e : *entries) EXPECT_EQ(e.data_offset % 64, 0u) << e.name;
}

TEST(ZipReader, HandBuiltZip64) {
  testing_io::ZipSpec spec;
  spec.zip64 = true;
  spec.entries = {{"x/one", "1"}, {"x/two", "22"}};
  const std::string bytes = testing_io::BuildZip(spec);
  auto entries = ReadZipDirectory(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  ASSERT_TRUE(entries.ok()) << entries.message();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ(bytes.substr((*entries)[1].data_offset, (*entries)[1].size), "22");

  // The same archive with its ZIP64 locator broken must fail, not read saturated values.
  std::string broken = bytes;
  broken[broken.size() - 22 - 20] = 'X';
  EXPECT_FALSE(
      ReadZipDirectory(reinterpret_cast<const uint8_t*>(broken.data()), broken.size()).ok());
}

}  // namespace
}  // namespace anser
