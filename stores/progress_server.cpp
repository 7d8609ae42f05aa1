#include "stores/progress_server.h"

#include <sys/stat.h>

#include <QDir>
#include <QFile>
#include <QLocalServer>
#include <QLocalSocket>
#include <QRandomGenerator>
#include <QTimer>
#include <algorithm>
#include <array>

#include "stores/qt_text.h"

namespace studio {
namespace protocol = syncbn::protocol;

namespace {

// Compares in time independent of where the strings differ, so a local process timing
// refusals learns nothing about the token.
bool sameToken(const std::string& a, const QString& b) {
  const QByteArray expected = b.toLatin1();
  if (a.size() != static_cast<std::size_t>(expected.size())) return false;
  unsigned char difference = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    difference |= static_cast<unsigned char>(a[i]) ^
                  static_cast<unsigned char>(expected[static_cast<qsizetype>(i)]);
  return difference == 0;
}

QString typeOf(const protocol::Message& message) {
  return toQString(protocol::typeName(message));
}

}  // namespace

struct ProgressServer::Peer {
  QLocalSocket* socket = nullptr;
  protocol::LineSplitter lines;
  bool engine = false;
};

ProgressServer::ProgressServer(QObject* parent) : QObject(parent) {}

ProgressServer::~ProgressServer() {
  close();
}

QString ProgressServer::newToken() {
  std::array<quint32, 8> words{};
  QRandomGenerator::system()->fillRange(words.data(), words.size());
  QString token;
  for (const quint32 word : words)
    token += QStringLiteral("%1").arg(word, 8, 16, QLatin1Char('0'));
  return token;
}

bool ProgressServer::listen(const QString& directory, QString* error) {
  close();
  if (!QDir().mkpath(directory) ||
      !QFile::setPermissions(directory, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner)) {
    if (error) *error = tr("Cannot create the private directory %1.").arg(directory);
    return false;
  }
  token_ = newToken();
  socketPath_ = QDir(directory).filePath(QStringLiteral("engine-%1.sock").arg(token_.left(12)));
  server_ = new QLocalServer(this);
  // UserAccessOption makes Qt bind in a private temporary directory, restrict the socket to its
  // owner and only then move it into place, so there is no moment at which others could connect.
  server_->setSocketOptions(QLocalServer::UserAccessOption);
  QLocalServer::removeServer(socketPath_);
  if (!server_->listen(socketPath_)) {
    if (error) *error = tr("Cannot listen on %1: %2").arg(socketPath_, server_->errorString());
    delete server_;
    server_ = nullptr;
    return false;
  }
  // Qt leaves the socket rwx for its owner; nobody needs to execute it.
  ::chmod(QFile::encodeName(socketPath_).constData(), S_IRUSR | S_IWUSR);
  connect(server_, &QLocalServer::newConnection, this, &ProgressServer::onNewConnection);
  enginesAccepted_ = 0;
  return true;
}

void ProgressServer::close() {
  for (auto& peer : peers_) {
    peer->socket->disconnect(this);
    peer->socket->abort();
    peer->socket->deleteLater();
  }
  peers_.clear();
  engine_ = nullptr;
  if (server_) {
    server_->close();
    delete server_;
    server_ = nullptr;
  }
  if (!socketPath_.isEmpty()) QFile::remove(socketPath_);
}

bool ProgressServer::isListening() const {
  return server_ != nullptr && server_->isListening();
}

ProgressServer::Peer* ProgressServer::peerOf(QLocalSocket* socket) {
  const auto it = std::find_if(peers_.begin(), peers_.end(),
                               [socket](const auto& peer) { return peer->socket == socket; });
  return it == peers_.end() ? nullptr : it->get();
}

void ProgressServer::onNewConnection() {
  while (server_ && server_->hasPendingConnections()) {
    QLocalSocket* socket = server_->nextPendingConnection();
    if (static_cast<int>(peers_.size()) >= kMaxPendingPeers) {
      emit peerRefused(tr("too many connections at once"));
      socket->abort();
      socket->deleteLater();
      continue;
    }
    auto peer = std::make_unique<Peer>();
    peer->socket = socket;
    peers_.push_back(std::move(peer));
    connect(socket, &QLocalSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
    connect(socket, &QLocalSocket::disconnected, this, [this, socket] { onDisconnected(socket); });
    QTimer::singleShot(handshakeTimeoutMs_, socket, [this, socket] {
      if (Peer* p = peerOf(socket); p && !p->engine)
        refuse(socket, tr("no hello within %1 s").arg(handshakeTimeoutMs_ / 1000.0));
    });
  }
}

void ProgressServer::onReadyRead(QLocalSocket* socket) {
  Peer* peer = peerOf(socket);
  if (peer == nullptr) return;
  const QByteArray bytes = socket->readAll();
  std::vector<protocol::DecodeResult> decoded =
      peer->lines.feedAndDecode(std::string_view(bytes.constData(), bytes.size()));
  if (decoded.empty()) return;
  if (!peer->engine) {
    handshake(*peer, decoded);
    if (!peerOf(socket)) return;  // refused
  }
  std::vector<protocol::Message> messages;
  messages.reserve(decoded.size());
  for (auto& result : decoded) {
    if (result.ok())
      messages.push_back(std::move(result).value());
    else
      emit badLine(toQString(result.error().reason));
  }
  if (!messages.empty()) emit messagesReceived(messages);
}

void ProgressServer::handshake(Peer& peer, std::vector<protocol::DecodeResult>& decoded) {
  const protocol::DecodeResult first = std::move(decoded.front());
  decoded.erase(decoded.begin());
  if (!first.ok()) {
    refuse(peer.socket,
           tr("its first line is not a message (%1)").arg(toQString(first.error().reason)));
    return;
  }
  const auto* hello = std::get_if<protocol::Hello>(&first.value());
  if (hello == nullptr) {
    refuse(peer.socket, tr("it began with '%1' instead of hello").arg(typeOf(first.value())));
    return;
  }
  if (hello->protocol != protocol::kProtocolVersion) {
    refuse(peer.socket, tr("it speaks protocol version %1; this studio speaks version %2")
                            .arg(hello->protocol)
                            .arg(protocol::kProtocolVersion));
    return;
  }
  if (!sameToken(hello->token, token_)) {
    refuse(peer.socket, tr("wrong session token"));
    return;
  }
  if (engine_ != nullptr) {
    refuse(peer.socket, tr("an engine is already connected"));
    return;
  }
  if (enginesAccepted_ >= 2) {
    refuse(peer.socket, tr("this run's engine has already reconnected once"));
    return;
  }
  peer.engine = true;
  engine_ = peer.socket;
  ++enginesAccepted_;
  emit engineConnected(toQString(hello->engine_version));
}

void ProgressServer::refuse(QLocalSocket* socket, const QString& reason) {
  emit peerRefused(reason);
  const auto it = std::find_if(peers_.begin(), peers_.end(),
                               [socket](const auto& peer) { return peer->socket == socket; });
  if (it == peers_.end()) return;
  socket->disconnect(this);
  socket->abort();
  socket->deleteLater();
  peers_.erase(it);
}

void ProgressServer::onDisconnected(QLocalSocket* socket) {
  Peer* peer = peerOf(socket);
  if (peer == nullptr) return;
  if (socket->bytesAvailable() > 0) onReadyRead(socket);
  peer = peerOf(socket);
  if (peer == nullptr) return;
  const bool wasEngine = peer->engine;
  const auto truncated = static_cast<qint64>(peer->lines.pendingBytes());
  socket->disconnect(this);
  socket->deleteLater();
  std::erase_if(peers_, [socket](const auto& p) { return p->socket == socket; });
  if (wasEngine) {
    engine_ = nullptr;
    emit engineDisconnected(truncated);
  }
}

bool ProgressServer::send(const protocol::Message& command) {
  if (engine_ == nullptr) return false;
  const std::string line = protocol::encode(command);
  return engine_->write(line.data(), static_cast<qint64>(line.size())) ==
         static_cast<qint64>(line.size());
}

void ProgressServer::drain() {
  std::vector<QLocalSocket*> sockets;
  for (const auto& peer : peers_)
    sockets.push_back(peer->socket);
  for (QLocalSocket* socket : sockets) {
    if (!peerOf(socket)) continue;
    socket->waitForReadyRead(0);
    if (peerOf(socket) && socket->bytesAvailable() > 0) onReadyRead(socket);
  }
}

}  // namespace studio
