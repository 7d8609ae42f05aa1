// ConfigDocument, the store every view reads: edits, diagnostics, load and save.
#include <gtest/gtest.h>

#include <QDir>
#include <QSignalSpy>
#include <algorithm>

#include "common/config_schema.h"
#include "common/config_yaml.h"
#include "tests/gui/gui_test_support.h"
#include "stores/config_document.h"

namespace studio::test {
namespace {

const syncbn::FieldSpec& spec(const char* path) {
  const syncbn::FieldSpec* found = syncbn::findField(path);
  EXPECT_NE(found, nullptr) << path;
  return *found;
}

bool hasDiagnostic(const syncbn::Diagnostics& diagnostics, const std::string& field,
                   syncbn::Severity severity, const std::string& fragment) {
  return std::any_of(diagnostics.begin(), diagnostics.end(), [&](const syncbn::Diagnostic& d) {
    return d.field == field && d.severity == severity &&
           d.message.find(fragment) != std::string::npos;
  });
}

using ConfigDocumentTest = GuiTest;

TEST_F(ConfigDocumentTest, StartsAsAnUnmodifiedUntitledDefaultConfig) {
  ConfigDocument document;
  EXPECT_EQ(document.config(), syncbn::Config{});
  EXPECT_FALSE(document.isModified());
  EXPECT_TRUE(document.filePath().isEmpty());
  EXPECT_EQ(document.displayName(), QStringLiteral("Untitled"));
  EXPECT_FALSE(syncbn::hasErrors(document.diagnostics()));
}

TEST_F(ConfigDocumentTest, SetFieldMarksModifiedAndRecomputesDiagnostics) {
  ConfigDocument document;
  QSignalSpy modified(&document, &ConfigDocument::modifiedChanged);
  QSignalSpy changed(&document, &ConfigDocument::configChanged);
  QSignalSpy diagnosticsChanged(&document, &ConfigDocument::diagnosticsChanged);

  document.setField(spec("distributed.device"), std::string("cpu"));
  document.setField(spec("distributed.cpu_ranks"), 2LL);
  document.setField(spec("train.batch"), 3LL);

  EXPECT_EQ(document.config().train.batch, 3);
  EXPECT_TRUE(document.isModified());
  EXPECT_EQ(modified.count(), 1);  // only the first edit changes the flag
  EXPECT_EQ(changed.count(), 3);
  EXPECT_EQ(diagnosticsChanged.count(), 3);
  EXPECT_TRUE(hasDiagnostic(document.diagnosticsFor(QStringLiteral("train.batch")), "train.batch",
                            syncbn::Severity::Error, "divide"));
}

TEST_F(ConfigDocumentTest, SettingTheCurrentValueIsNoChange) {
  ConfigDocument document;
  QSignalSpy changed(&document, &ConfigDocument::configChanged);
  document.setField(spec("train.epochs"), 100LL);
  EXPECT_EQ(changed.count(), 0);
  EXPECT_FALSE(document.isModified());
}

TEST_F(ConfigDocumentTest, SaveAsWritesTheConfigAndClearsModified) {
  ConfigDocument document;
  document.setField(spec("train.epochs"), 42LL);
  const QString path = scratch_.filePath(QStringLiteral("run.yaml"));

  ASSERT_TRUE(document.saveAs(path)) << document.errorString().toStdString();
  EXPECT_FALSE(document.isModified());
  EXPECT_EQ(document.filePath(), path);
  EXPECT_EQ(document.displayName(), QStringLiteral("run.yaml"));

  const syncbn::LoadedConfig reread = syncbn::loadConfigFile(path.toStdString());
  EXPECT_TRUE(reread.diagnostics.empty());
  EXPECT_EQ(reread.config, document.config());
}

TEST_F(ConfigDocumentTest, SaveFailureReportsWhyAndKeepsTheChanges) {
  ConfigDocument document;
  document.setField(spec("train.epochs"), 42LL);

  // A directory cannot be replaced by a file; a missing directory cannot hold one.
  for (const QString& path :
       {scratch_.path(), scratch_.filePath(QStringLiteral("no/such/x.yaml"))}) {
    EXPECT_FALSE(document.saveAs(path)) << path.toStdString();
    EXPECT_FALSE(document.errorString().isEmpty());
    EXPECT_TRUE(document.isModified());
    EXPECT_TRUE(document.filePath().isEmpty());
    EXPECT_EQ(document.config().train.epochs, 42);
  }
}

TEST_F(ConfigDocumentTest, SaveWithoutAFileNameFails) {
  ConfigDocument document;
  EXPECT_FALSE(document.save());
  EXPECT_FALSE(document.errorString().isEmpty());
}

TEST_F(ConfigDocumentTest, LoadReportsUnknownKeysWithTheirLineAndKeepsTheRest) {
  const QString path =
      writeFile(scratch_, QStringLiteral("typo.yaml"), "train:\n  epochs: 7\n  epochz: 5\n");
  ConfigDocument document;
  const LoadResult result = document.load(path);

  ASSERT_TRUE(result.opened);
  EXPECT_EQ(document.config().train.epochs, 7);
  EXPECT_FALSE(document.isModified());
  EXPECT_EQ(document.filePath(), path);
  ASSERT_TRUE(
      hasDiagnostic(result.diagnostics, "train.epochz", syncbn::Severity::Error, "unknown key"));
  const auto problems = document.diagnosticsFor(QStringLiteral("train.epochz"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems.front().line, 3);
  EXPECT_NE(problems.front().message.find("train.epochs"), std::string::npos);  // did you mean
}

TEST_F(ConfigDocumentTest, BadValueKeepsItsDefaultUntilTheUserSetsOne) {
  const QString path = writeFile(scratch_, QStringLiteral("bad.yaml"), "train:\n  batch: many\n");
  ConfigDocument document;
  ASSERT_TRUE(document.load(path).opened);
  EXPECT_EQ(document.config().train.batch, syncbn::TrainConfig{}.batch);
  EXPECT_TRUE(
      hasDiagnostic(document.diagnostics(), "train.batch", syncbn::Severity::Error, "integer"));

  document.setField(spec("train.batch"), 8LL);
  EXPECT_TRUE(document.diagnosticsFor(QStringLiteral("train.batch")).empty());
}

TEST_F(ConfigDocumentTest, FilesThatAreNoConfigurationAreNotOpened) {
  const QString broken =
      writeFile(scratch_, QStringLiteral("broken.yaml"), "train: {epochs: [1,\n");
  ConfigDocument document;
  document.setField(spec("train.epochs"), 42LL);

  for (const QString& path :
       {broken, scratch_.filePath(QStringLiteral("missing.yaml")), scratch_.path()}) {
    const LoadResult result = document.load(path);
    EXPECT_FALSE(result.opened) << path.toStdString();
    EXPECT_FALSE(result.diagnostics.empty());
    // The user's unsaved work is still there, so Save cannot write defaults over their file.
    EXPECT_EQ(document.config().train.epochs, 42);
    EXPECT_TRUE(document.isModified());
    EXPECT_TRUE(document.filePath().isEmpty());
  }
}

TEST_F(ConfigDocumentTest, SavingDropsTheProblemsOfTheFileItReplaced) {
  const QString path = writeFile(scratch_, QStringLiteral("typo.yaml"), "epochz: 5\n");
  ConfigDocument document;
  ASSERT_TRUE(document.load(path).opened);
  ASSERT_FALSE(document.diagnosticsFor(QStringLiteral("epochz")).empty());

  ASSERT_TRUE(document.save());
  EXPECT_TRUE(document.diagnosticsFor(QStringLiteral("epochz")).empty());
  EXPECT_TRUE(document.load(path).diagnostics.empty());
}

TEST_F(ConfigDocumentTest, NewDocumentResetsEverything) {
  const QString path = writeFile(scratch_, QStringLiteral("a.yaml"), "epochs: 3\nepochz: 1\n");
  ConfigDocument document;
  ASSERT_TRUE(document.load(path).opened);
  document.setField(spec("train.batch"), 32LL);

  document.newDocument();
  EXPECT_EQ(document.config(), syncbn::Config{});
  EXPECT_FALSE(document.isModified());
  EXPECT_TRUE(document.filePath().isEmpty());
  EXPECT_TRUE(document.diagnosticsFor(QStringLiteral("epochz")).empty());
}

}  // namespace
}  // namespace studio::test
