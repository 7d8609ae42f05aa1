#include "stores/translated_text.h"

#include <QCoreApplication>

#include "stores/qt_text.h"

namespace studio {

QString translatedText(const syncbn::Text& text) {
  const syncbn::Catalogue catalogue = [](std::string_view id) {
    const std::string english(syncbn::englishTemplate(id));
    if (english.empty()) return std::string();
    return QCoreApplication::translate("EngineText", english.c_str()).toStdString();
  };
  return toQString(syncbn::render(text, catalogue));
}

QString messageOf(const syncbn::Diagnostic& diagnostic) {
  return diagnostic.text.empty() ? toQString(diagnostic.message) : translatedText(diagnostic.text);
}

QString messageOf(const syncbn::diagnosis::Finding& finding) {
  return finding.text.empty() ? toQString(finding.message) : translatedText(finding.text);
}

QString headlineOf(const syncbn::diagnosis::Verdict& verdict) {
  for (const syncbn::diagnosis::Finding& finding : verdict.findings)
    if (finding.message == verdict.headline) return messageOf(finding);
  return toQString(verdict.headline);
}

}  // namespace studio
