import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalRepository, isUnder, matchesPattern, repositoryName, urlProblem } from './repository.js';

describe('repository addresses', () => {
  it('one spelling for the same repository', () => {
    for (const spelling of [
      'https://github.com/acme/widgets',
      'https://GitHub.com/acme/widgets.git',
      'https://github.com/acme/widgets/',
      'https://github.com:443/acme/widgets.git',
    ])
      assert.equal(canonicalRepository(spelling), 'https://github.com/acme/widgets', spelling);
    assert.equal(repositoryName('https://github.com/acme/widgets.git'), 'widgets');
  });

  it('patterns: exact, or every repository directly under a path', () => {
    assert.ok(matchesPattern('https://github.com/acme/widgets.git', 'https://github.com/acme/widgets'));
    assert.ok(matchesPattern('https://github.com/acme/widgets', 'https://github.com/acme/*'));
    assert.ok(!matchesPattern('https://github.com/acme/team/widgets', 'https://github.com/acme/*'));
    assert.ok(!matchesPattern('https://github.com/acme', 'https://github.com/acme/*'));
    assert.ok(!matchesPattern('https://github.com/acmecorp/widgets', 'https://github.com/acme/*'));
    assert.ok(!matchesPattern('http://localhost/acme/widgets', 'https://localhost/acme/*'));
    assert.ok(
      !matchesPattern('https://github.com/Acme/widgets', 'https://github.com/acme/*'),
      'paths compare exactly',
    );
  });

  it('a repository lies under a forge by whole path segments', () => {
    assert.ok(isUnder('https://github.com/acme/widgets', 'https://github.com'));
    assert.ok(isUnder('https://git.acme.test/group/sub/repo.git', 'https://git.acme.test/group'));
    assert.ok(!isUnder('https://git.acme.test/groupie/repo.git', 'https://git.acme.test/group'));
    assert.ok(!isUnder('https://git.acme.test/group', 'https://git.acme.test/group'));
    assert.ok(!isUnder('https://gitlab.com/acme/widgets', 'https://github.com'));
  });

  it('says what is wrong with a URL it cannot use', () => {
    assert.equal(
      urlProblem('github.com/acme/widgets'),
      'expected a URL such as https://github.com/acme/widgets.git',
    );
    assert.equal(urlProblem('ssh://git@github.com/acme/w'), 'expected an https:// URL');
    assert.equal(urlProblem('https://github.com/acme/w?x=1'), 'must not have a query or fragment');
    assert.equal(urlProblem('http://localhost:3000/acme/w'), null);
    assert.match(urlProblem('https://github.com/acme/*') ?? '', /path segment "\*"/);
    assert.equal(urlProblem('https://github.com/acme/*', true), null);
    assert.equal(
      urlProblem('https://github.com/acme/a%20b'),
      'path segment "a b" is not allowed (letters, digits, . _ ~ - only)',
    );
  });
});
