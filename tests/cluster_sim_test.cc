// The scale-out simulation's router (bench/replay/cluster.h): the ring's
// stability, and a cluster of real pools routing by module or in turn, with
// bounded loads spreading a module that would overload its home.
#include <gtest/gtest.h>

#include "replay/cluster.h"
#include "test_support.h"

namespace strata::bench {
namespace {

using testing::GuestPath;
using testing::TestEngine;

TEST(HashRingTest, AddingANodeMovesKeysOnlyToIt) {
  HashRing four(4), five(5);
  int moved = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string key = "fn" + std::to_string(i);
    EXPECT_EQ(four.NodeOf(key), four.NodeOf(key));  // deterministic
    if (four.NodeOf(key) != five.NodeOf(key)) {
      EXPECT_EQ(five.NodeOf(key), 4u) << key;
      ++moved;
    }
  }
  // About a fifth of the keys move to the new node.
  EXPECT_GT(moved, 2000 / 5 / 2);
  EXPECT_LT(moved, 2000 / 5 * 2);
}

TEST(HashRingTest, SuccessorsListEveryNodeOnceFromTheHome) {
  HashRing ring(8);
  auto order = ring.Successors("extractor");
  ASSERT_EQ(order.size(), 8u);
  EXPECT_EQ(order[0], ring.NodeOf("extractor"));
  std::sort(order.begin(), order.end());
  for (uint32_t i = 0; i < 8; ++i) EXPECT_EQ(order[i], i);
}

class ClusterSimTest : public ::testing::Test {
 protected:
  std::unique_ptr<Executor> Make(Routing routing, double factor) {
    ExecutorOptions o;
    o.budget_bytes = 64 << 20;
    o.max_instances = 8;
    auto cluster = MakeClusterExecutor("strata", 3, routing, factor,
                                       TestEngine(), o);
    EXPECT_TRUE(cluster.ok()) << cluster.status();
    auto bytes = ReadFile(GuestPath("echo.wat")).value();
    for (int i = 0; i < 4; ++i) {
      WorkloadModule m{"m" + std::to_string(i), bytes, "run", {Bytes{'x'}}};
      // Distinct modules, as distinct files would be.
      m.bytes.insert(m.bytes.end() - 1, ' ');
      auto compiled = TestEngine().Compile(m.name, m.bytes);
      EXPECT_TRUE(compiled.ok()) << compiled.status();
      EXPECT_TRUE((*cluster)->Register(m, *compiled).ok());
    }
    return std::move(*cluster);
  }

  static uint32_t NodesUsed(const Executor& e) {
    uint32_t used = 0;
    for (const auto& n : ClusterNodes(e)) used += n.requests > 0;
    return used;
  }
};

TEST_F(ClusterSimTest, ConsistentHashingKeepsAModuleOnOneNode) {
  auto cluster = Make(Routing::kConsistentHash, 0);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(cluster->Serve(1, Bytes{'x'}).ok());
  EXPECT_EQ(NodesUsed(*cluster), 1u);
}

TEST_F(ClusterSimTest, RoundRobinSpreadsAModuleOverEveryNode) {
  auto cluster = Make(Routing::kRoundRobin, 0);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(cluster->Serve(1, Bytes{'x'}).ok());
  EXPECT_EQ(NodesUsed(*cluster), 3u);
  for (const auto& n : ClusterNodes(*cluster)) EXPECT_EQ(n.requests, 10u);
}

TEST_F(ClusterSimTest, BoundedLoadsSendAHotModulesOverflowOnAlongTheRing) {
  auto cluster = Make(Routing::kConsistentHash, 1.5);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(cluster->Serve(1, Bytes{'x'}).ok());
  // No node above 1.5x the average share, and the module's home on the
  // ring serves the most; the rest overflows along its ring.
  auto nodes = ClusterNodes(*cluster);
  uint64_t most = 0;
  for (const auto& n : nodes) most = std::max(most, n.requests);
  EXPECT_LE(most, 15u);
  EXPECT_EQ(nodes[HashRing(3).NodeOf("m1")].requests, most);
  EXPECT_GE(NodesUsed(*cluster), 2u);
}

}  // namespace
}  // namespace strata::bench
