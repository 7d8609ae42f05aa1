// Conversions between the config layer's UTF-8 std::string/std::string_view and QString.
#pragma once

#include <QFile>
#include <QString>
#include <filesystem>
#include <string>
#include <string_view>

namespace studio {

inline QString toQString(std::string_view text) {
  return QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size()));
}

inline std::string toStdString(const QString& text) {
  return text.toStdString();
}

// File names go through the local 8-bit encoding, as QFile does, so every name QFileDialog can
// return is one the config layer can open.
inline std::filesystem::path toFsPath(const QString& path) {
  return std::filesystem::path(QFile::encodeName(path).toStdString());
}

}  // namespace studio
