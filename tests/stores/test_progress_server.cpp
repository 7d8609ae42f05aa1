// ProgressServer on its own, with in-process clients: what the engine session cannot set (the
// handshake timeout) and what takes more connections than a fake engine's run (the launcher's
// one reconnection, and no second).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <QFile>
#include <QFileInfo>
#include <QLocalSocket>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>
#include <memory>

#include "common/protocol.h"
#include "session_harness.h"
#include "stores/progress_server.h"

namespace studio::testing {
namespace {

namespace protocol = syncbn::protocol;

class ProgressServerTest : public ::testing::Test {
 protected:
  ProgressServerTest() {
    QString error;
    if (!server_.listen(scratch_.filePath(QStringLiteral("private")), &error))
      ADD_FAILURE() << error.toStdString();
  }

  // A client connected to the server (not yet said hello).
  std::unique_ptr<QLocalSocket> connectClient() {
    auto client = std::make_unique<QLocalSocket>();
    client->connectToServer(server_.socketPath());
    EXPECT_TRUE(client->waitForConnected(2000)) << client->errorString().toStdString();
    return client;
  }

  static void send(QLocalSocket& client, const protocol::Message& message) {
    const std::string line = protocol::encode(message);
    client.write(line.data(), static_cast<qint64>(line.size()));
    client.flush();
  }

  protocol::Hello hello() const {
    return protocol::Hello{protocol::kProtocolVersion, "test", server_.token().toStdString()};
  }

  static bool waitForDisconnect(QLocalSocket& client, int ms = 2000) {
    return QTest::qWaitFor([&] { return client.state() == QLocalSocket::UnconnectedState; }, ms);
  }

  ScratchDir scratch_;
  ProgressServer server_;
};

TEST_F(ProgressServerTest, TokensAreFreshAndLong) {
  const QString first = server_.token();
  EXPECT_EQ(first.size(), 64);
  EXPECT_TRUE(QRegularExpression(QStringLiteral("^[0-9a-f]{64}$")).match(first).hasMatch());
  const QString path = server_.socketPath();
  QString error;
  ASSERT_TRUE(server_.listen(scratch_.filePath(QStringLiteral("private")), &error));
  EXPECT_NE(server_.token(), first);
  EXPECT_FALSE(QFileInfo::exists(path)) << "the old socket must go";
}

TEST_F(ProgressServerTest, TheSocketIsOwnerOnlyAndRemovedOnClose) {
  struct stat info {};
  const QByteArray path = QFile::encodeName(server_.socketPath());
  ASSERT_EQ(::stat(path.constData(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  server_.close();
  EXPECT_FALSE(QFileInfo::exists(server_.socketPath()));
}

TEST_F(ProgressServerTest, APeerThatSaysNothingIsDroppedAfterTheHandshakeTimeout) {
  server_.setHandshakeTimeout(200);
  QSignalSpy refused(&server_, &ProgressServer::peerRefused);
  auto client = connectClient();
  ASSERT_TRUE(waitForDisconnect(*client));
  ASSERT_EQ(refused.size(), 1);
  EXPECT_TRUE(refused[0][0].toString().contains(QStringLiteral("hello")))
      << refused[0][0].toString().toStdString();
  EXPECT_FALSE(server_.isEngineConnected());
}

TEST_F(ProgressServerTest, TheLauncherMayReconnectOnceButNotTwice) {
  QSignalSpy refused(&server_, &ProgressServer::peerRefused);
  QSignalSpy received(&server_, &ProgressServer::messagesReceived);
  QSignalSpy connected(&server_, &ProgressServer::engineConnected);
  QSignalSpy disconnected(&server_, &ProgressServer::engineDisconnected);
  for (int n = 0; n < 2; ++n) {  // rank 0, then the launcher after a rank failed
    auto client = connectClient();
    send(*client, hello());
    send(*client, protocol::Log{"info", 0, "connection " + std::to_string(n)});
    ASSERT_TRUE(QTest::qWaitFor([&] { return received.size() == n + 1; }, 2000)) << n;
    EXPECT_TRUE(server_.isEngineConnected());
    client->disconnectFromServer();
    ASSERT_TRUE(QTest::qWaitFor([&] { return disconnected.size() == n + 1; }, 2000)) << n;
  }
  auto third = connectClient();
  send(*third, hello());
  send(*third, protocol::Log{"info", 0, "connection 2"});
  ASSERT_TRUE(waitForDisconnect(*third));
  ASSERT_EQ(refused.size(), 1);
  EXPECT_TRUE(refused[0][0].toString().contains(QStringLiteral("once")))
      << refused[0][0].toString().toStdString();
  EXPECT_EQ(connected.size(), 2);
  EXPECT_EQ(received.size(), 2);  // nothing of the third
}

TEST_F(ProgressServerTest, CommandsGoToTheConnectedEngineOnly) {
  EXPECT_FALSE(server_.send(protocol::Stop{}));
  auto client = connectClient();
  EXPECT_FALSE(server_.send(protocol::Stop{})) << "not before its hello";
  QSignalSpy connected(&server_, &ProgressServer::engineConnected);
  send(*client, hello());
  ASSERT_TRUE(connected.wait(2000));
  EXPECT_EQ(connected[0][0].toString(), QStringLiteral("test"));
  ASSERT_TRUE(server_.send(protocol::Stop{}));
  ASSERT_TRUE(server_.send(protocol::CheckpointNow{}));
  QByteArray got;
  ASSERT_TRUE(QTest::qWaitFor(
      [&] {
        got += client->readAll();
        return got.count('\n') >= 2;
      },
      2000));
  EXPECT_EQ(got.toStdString(),
            protocol::encode(protocol::Stop{}) + protocol::encode(protocol::CheckpointNow{}));
}

TEST_F(ProgressServerTest, DrainDeliversWhatIsAlreadyInTheSocket) {
  auto client = connectClient();
  QSignalSpy received(&server_, &ProgressServer::messagesReceived);
  send(*client, hello());
  ASSERT_TRUE(QTest::qWaitFor([&] { return server_.isEngineConnected(); }, 2000));
  send(*client, protocol::Log{"info", 0, "last words"});
  ASSERT_EQ(client->bytesToWrite(), 0);  // written by send()'s flush
  ASSERT_EQ(received.size(), 0);  // in the kernel's buffer; the event loop has not run since...
  server_.drain();                // ...and drain() reads it without one
  ASSERT_EQ(received.size(), 1);
  const auto messages = received[0][0].value<std::vector<protocol::Message>>();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(std::get<protocol::Log>(messages[0]).text, "last words");
}

}  // namespace
}  // namespace studio::testing
