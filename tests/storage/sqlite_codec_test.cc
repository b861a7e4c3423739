// The SQLite backend's pure layout helpers: the items split of canonical JSON, the item
// list codec (keyframes and deltas), and the blob codec.
#include <gtest/gtest.h>

#include <random>

#include "sqlite_blob_codec.h"
#include "sqlite_item_list.h"
#include "sqlite_item_split.h"
#include "storage/registry_gen.h"

namespace registry::storage::internal {
namespace {

std::vector<std::string> Items(const ItemSplit& s) {
  return std::vector<std::string>(s.items.begin(), s.items.end());
}

TEST(ItemSplitTest, SplitsACommitRecordAroundItsItems) {
  const std::string doc =
      R"({"approvals":[{"sig":"[x]"}],"payload":{"governance":{"items":[9]},"items":[{"id":"a,b"},{"id":"c]\"d"},[1,[2]]],"version":1},"version":1})";
  std::optional<ItemSplit> s = SplitItems(doc, {kPayloadMember, kItemsMember});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->prefix,
            R"({"approvals":[{"sig":"[x]"}],"payload":{"governance":{"items":[9]},"items":[)");
  EXPECT_EQ(Items(*s),
            (std::vector<std::string>{R"({"id":"a,b"})", R"({"id":"c]\"d"})", "[1,[2]]"}));
  EXPECT_EQ(s->suffix, R"(],"version":1},"version":1})");
  EXPECT_EQ(JoinItems(*s), doc);
}

TEST(ItemSplitTest, HandlesEscapedBackslashesBeforeQuotes) {
  const std::string doc = R"({"items":["a\\","\\\"]","x\\\\"],"z":1})";
  std::optional<ItemSplit> s = SplitItems(doc, {kItemsMember});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(Items(*s), (std::vector<std::string>{R"("a\\")", R"("\\\"]")", R"("x\\\\")"}));
  EXPECT_EQ(JoinItems(*s), doc);
}

TEST(ItemSplitTest, EmptyArrayHasNoItems) {
  const std::string doc = R"({"items":[],"v":2})";
  std::optional<ItemSplit> s = SplitItems(doc, {kItemsMember});
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->items.empty());
  EXPECT_EQ(JoinItems(*s), doc);
}

TEST(ItemSplitTest, WhitespaceStaysExact) {
  const std::string doc = "{ \"items\" : [ 1 ,\n{\"a\": [ ] } ] }";
  std::optional<ItemSplit> s = SplitItems(doc, {kItemsMember});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->items.size(), 2u);
  EXPECT_EQ(JoinItems(*s), doc);
}

TEST(ItemSplitTest, RefusesWhatItCannotSplitExactly) {
  for (const char* doc : {"", "[]", R"({"items":"x"})", R"({"items":[1,]})", R"({"items":[,1]})",
                          R"({"items":[ ]})", R"({"items":["open]})", R"({"other":[1]})",
                          R"({"items" [1]})", R"({"payload":{"items":[1]}})"}) {
    EXPECT_FALSE(SplitItems(doc, {kItemsMember}).has_value()) << doc;
  }
}

TEST(ItemSplitTest, RandomCanonicalPayloadsSplitIntoTheirDescriptors) {
  testing::RegistryGen gen(42, 200);
  for (int round = 0; round < 20; ++round) {
    gen.Evolve(10);
    const std::string payload = gen.CanonicalPayload(round + 1);
    std::optional<ItemSplit> s = SplitItems(payload, {kItemsMember});
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->items.size(), gen.size());
    EXPECT_EQ(JoinItems(*s), payload);
    const std::string record = gen.Record(round + 1, payload);
    std::optional<ItemSplit> r = SplitItems(record, {kPayloadMember, kItemsMember});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(Items(*r), Items(*s));
    EXPECT_EQ(JoinItems(*r), record);
  }
}

IdList RandomEdit(const IdList& base, std::mt19937_64& rng, DescriptorId& next_id, int edits) {
  IdList out = base;
  for (int e = 0; e < edits; ++e) {
    const std::size_t n = out.size();
    switch (rng() % 4) {
      case 0:
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(rng() % (n + 1)), next_id++);
        break;
      case 1:
        if (n > 0) out.erase(out.begin() + static_cast<std::ptrdiff_t>(rng() % n));
        break;
      case 2:
        if (n > 0) out[rng() % n] = next_id++;
        break;
      case 3:
        if (n > 1) std::swap(out[rng() % n], out[rng() % n]);
        break;
    }
  }
  return out;
}

TEST(ItemListTest, FullListsRoundTrip) {
  for (const IdList& ids :
       {IdList{}, IdList{1}, IdList{5, 3, 9, 1'000'000'000'000, 2}, IdList{1, 1, 1}}) {
    util::Result<IdList> back = DecodeList(EncodeFullList(ids), nullptr);
    ASSERT_TRUE(back.ok()) << back.error().message();
    EXPECT_EQ(*back, ids);
  }
  IdList sequential(50'000);
  for (std::size_t i = 0; i < sequential.size(); ++i)
    sequential[i] = static_cast<DescriptorId>(i + 1);
  const std::string encoded = EncodeFullList(sequential);
  EXPECT_LT(encoded.size(), 1024u);  // deltas of 1 compress to almost nothing
  EXPECT_EQ(*DecodeList(encoded, nullptr), sequential);
}

TEST(ItemListTest, DeltasRoundTripAndStaySmall) {
  std::mt19937_64 rng(7);
  IdList base(5'000);
  for (std::size_t i = 0; i < base.size(); ++i) base[i] = static_cast<DescriptorId>(i + 1);
  DescriptorId next_id = 10'000;
  for (int round = 0; round < 200; ++round) {
    const int edits = round % 50 == 49 ? 2'000 : static_cast<int>(rng() % 6);
    IdList next = RandomEdit(base, rng, next_id, edits);
    if (round % 37 == 0) std::reverse(next.begin(), next.end());
    const std::string delta = EncodeDeltaList(base, IndexPositions(base), next);
    util::Result<IdList> back = DecodeList(delta, &base);
    ASSERT_TRUE(back.ok()) << back.error().message();
    ASSERT_EQ(*back, next) << round;
    if (edits <= 5 && round % 37 != 0) {
      EXPECT_LT(delta.size(), 80u) << round;
    }
    base = std::move(next);
  }
}

TEST(ItemListTest, CorruptListsAreErrors) {
  const IdList base = {1, 2, 3, 4};
  const std::string delta = EncodeDeltaList(base, IndexPositions(base), IdList{2, 3, 9});
  ASSERT_TRUE(DecodeList(delta, &base).ok());
  EXPECT_FALSE(DecodeList(delta, nullptr).ok());  // no base
  const IdList other = {1, 2};
  EXPECT_FALSE(DecodeList(delta, &other).ok());                             // wrong base
  EXPECT_FALSE(DecodeList(delta.substr(0, delta.size() - 1), &base).ok());  // truncated
  EXPECT_FALSE(DecodeList("", nullptr).ok());
  EXPECT_FALSE(DecodeList("X", nullptr).ok());
  // Lists carry no checksum of their own (the record's BLAKE3 covers them), but structural
  // damage is caught.
  std::string full = EncodeFullList(base);
  full.back() = static_cast<char>(full.back() | 0x80);  // a varint that never ends
  EXPECT_FALSE(DecodeList(full, nullptr).ok());
  EXPECT_FALSE(DecodeList(EncodeFullList(base) + "\x01", nullptr).ok());  // trailing bytes
  // A copy that runs past the base.
  std::string bad = "D";
  bad += '\x04';  // base count 4
  bad += '\x03';  // count 3
  bad += '\x06';  // copy 3
  bad += '\x04';  // from expected + 2
  EXPECT_FALSE(DecodeList(bad, &base).ok());
}

TEST(BlobCodecTest, RoundTripsAndPicksTheSmallerForm) {
  const std::string small = "tiny";
  EXPECT_EQ(EncodeBlob(small)[0], static_cast<char>(BlobMethod::kRaw));
  EXPECT_EQ(*DecodeBlob(EncodeBlob(small)), small);
  const std::string repetitive(10'000, 'x');
  const std::string z = EncodeBlob(repetitive);
  EXPECT_EQ(z[0], static_cast<char>(BlobMethod::kZlib));
  EXPECT_LT(z.size(), 200u);
  EXPECT_EQ(*DecodeBlob(z), repetitive);
  EXPECT_EQ(*DecodeBlob(EncodeBlob("")), "");
}

TEST(BlobCodecTest, DictionaryMakesRepeatsCheapAndIsRequired) {
  std::mt19937_64 rng(3);
  std::string governance;
  for (int i = 0; i < 2'000; ++i) governance.push_back(static_cast<char>('a' + rng() % 26));
  const std::string next = governance + "-v2";
  const std::string with = EncodeBlob(next, governance);
  EXPECT_TRUE(BlobNeedsDictionary(with));
  EXPECT_LT(with.size(), 64u);
  EXPECT_EQ(*DecodeBlob(with, governance), next);
  EXPECT_FALSE(DecodeBlob(with).ok());
  EXPECT_FALSE(DecodeBlob(with, governance + "x").ok());
  std::string corrupt = EncodeBlob(std::string(1'000, 'y'));
  corrupt[corrupt.size() / 2] ^= 0x11;
  EXPECT_FALSE(DecodeBlob(corrupt).ok());
  EXPECT_FALSE(DecodeBlob(std::string(1, '\x07')).ok());
}

}  // namespace
}  // namespace registry::storage::internal
