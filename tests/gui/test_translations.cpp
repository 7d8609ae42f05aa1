// The translations are real: compiled from translations/*.ts, embedded, and applied to the window.
#include <gtest/gtest.h>

#include <QCoreApplication>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QTranslator>

#include "app/application.h"
#include "app/main_window.h"
#include "tests/gui/gui_test_support.h"

namespace studio::test {
namespace {

using TranslationsTest = GuiTest;

TEST_F(TranslationsTest, ChineseIsFoundForAChineseLocaleOnly) {
  QTranslator translator;
  EXPECT_TRUE(loadTranslation(translator, QLocale(QLocale::Chinese, QLocale::China)));
  EXPECT_FALSE(loadTranslation(translator, QLocale(QLocale::Swahili, QLocale::Kenya)));
}

TEST_F(TranslationsTest, ChineseNamesThePagesAndTheFileMenu) {
  QTranslator chinese;
  ASSERT_TRUE(loadTranslation(chinese, QLocale(QLocale::Chinese, QLocale::China)));
  QCoreApplication::installTranslator(&chinese);
  const MainWindow window;
  QCoreApplication::removeTranslator(&chinese);

  const auto* pages = window.findChild<QListWidget*>(QStringLiteral("pageList"));
  ASSERT_NE(pages, nullptr);
  QStringList titles;
  for (int i = 0; i < pages->count(); ++i)
    titles << pages->item(i)->text();
  EXPECT_EQ(titles, (QStringList{QStringLiteral("数据集"), QStringLiteral("模型"),
                                 QStringLiteral("训练"), QStringLiteral("分布式")}));

  const auto* file = window.findChild<QMenu*>(QStringLiteral("fileMenu"));
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->title(), QStringLiteral("文件(&F)"));
  EXPECT_EQ(window.findChild<QAction*>(QStringLiteral("action.open"))->text(),
            QStringLiteral("打开(&O)..."));
}

TEST_F(TranslationsTest, EnglishHasProperPluralForms) {
  const MainWindow window;  // default config: no errors, no warnings
  EXPECT_EQ(window.findChild<QLabel*>(QStringLiteral("diagnosticsSummary"))->text(),
            QStringLiteral("0 errors, 0 warnings"));
  EXPECT_EQ(window.findChild<QLabel*>(QStringLiteral("topology.worldSize"))->text(),
            QStringLiteral("1 rank = 1 per node × 1 node"));
}

}  // namespace
}  // namespace studio::test
