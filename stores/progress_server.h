// The studio's end of the progress protocol (docs/protocol.md): a local socket in the user's
// runtime directory that only this user may open (mode 0600), a fresh random session token for
// each run, and one engine connection at a time.
//
// A connection must say `hello` with this build's protocol version and the token within
// handshakeTimeout; otherwise it is closed and peerRefused() says why. While one engine is
// connected a second is refused. After it has gone, one more may come: the engine's launcher
// reconnects once after a rank failure to report it.
#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QString>
#include <memory>
#include <vector>

#include "common/protocol.h"

class QLocalServer;
class QLocalSocket;

namespace studio {

class ProgressServer : public QObject {
  Q_OBJECT

 public:
  static constexpr int kDefaultHandshakeTimeoutMs = 10000;
  static constexpr int kMaxPendingPeers = 8;

  explicit ProgressServer(QObject* parent = nullptr);
  ~ProgressServer() override;

  // Listens on a new socket in `directory` (created, owner-only, when missing) under a fresh
  // token. False with `error` set when that fails.
  bool listen(const QString& directory, QString* error);
  void close();  // closes the socket and every connection; removes the socket file
  bool isListening() const;
  QString socketPath() const { return socketPath_; }
  QString token() const { return token_; }
  bool isEngineConnected() const { return engine_ != nullptr; }
  void setHandshakeTimeout(int milliseconds) { handshakeTimeoutMs_ = milliseconds; }

  // Sends a command (stop, checkpoint_now) to the connected engine; false when none is.
  bool send(const syncbn::protocol::Message& command);
  // Reads what the engine has sent but this object has not yet handled (before the process's
  // exit is acted on, so its last events are not lost).
  void drain();

  // 256 random bits from the system's generator, as 64 hex digits.
  static QString newToken();

 signals:
  void engineConnected(const QString& engineVersion);
  void messagesReceived(const std::vector<syncbn::protocol::Message>& messages);
  void badLine(const QString& reason);
  void peerRefused(const QString& reason);
  // The engine closed its connection; `truncatedBytes` of an unfinished last line were lost.
  void engineDisconnected(qint64 truncatedBytes);

 private:
  struct Peer;
  void onNewConnection();
  void onReadyRead(QLocalSocket* socket);
  void onDisconnected(QLocalSocket* socket);
  void refuse(QLocalSocket* socket, const QString& reason);
  Peer* peerOf(QLocalSocket* socket);
  void handshake(Peer& peer, std::vector<syncbn::protocol::DecodeResult>& decoded);

  QLocalServer* server_ = nullptr;
  QString socketPath_;
  QString token_;
  int handshakeTimeoutMs_ = kDefaultHandshakeTimeoutMs;
  std::vector<std::unique_ptr<Peer>> peers_;
  QLocalSocket* engine_ = nullptr;
  int enginesAccepted_ = 0;
};

}  // namespace studio
