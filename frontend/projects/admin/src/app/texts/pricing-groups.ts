import type { Translations } from 'shared';

/** The texts of the pricing section's customer groups page (registered when the page loads). */
export const PRICING_GROUPS: Translations = {
  en: {
    'pricing.groups.title': 'Customer groups',
    'pricing.groups.intro':
      'Groups such as wholesale or partners, for price lists and promotions. A customer is in a group when you add them here, or when their verified email is at one of its domains.',
    'pricing.groups.name': 'Name',
    'pricing.groups.key': 'Key',
    'pricing.groups.key-hint':
      'What price lists, promotions and integrations name the group by: lowercase letters, digits, - or _ (wholesale).',
    'pricing.groups.domains': 'Email domains',
    'pricing.groups.domains-optional': 'Email domains (optional)',
    'pricing.groups.domains-hint':
      'Customers with a verified email at these domains are members, separated by commas: acme.com',
    'pricing.groups.added-count': 'Added by hand',
    'pricing.groups.none': 'No customer groups yet.',
    'pricing.groups.more-groups': 'Show more groups',
    'pricing.groups.new': 'New customer group',
    'pricing.groups.create': 'Create group',
    'pricing.groups.confirm-delete':
      'Delete the group “{name}”? Price lists and promotions naming it no longer apply to anyone through it.',
    'pricing.groups.members': 'Members',
    'pricing.groups.members-of': 'Members of {name}',
    'pricing.groups.rule-members':
      'The customers you added are listed here; customers with a verified email at {list} are members too.',
    'pricing.groups.hand-members': 'The customers you added to this group.',
    'pricing.groups.member': 'Customer email or id',
    'pricing.groups.member-hint': 'The email a customer registered with, or their customer id.',
    'pricing.groups.member-expected': 'Give a customer’s email or their id.',
    'pricing.groups.no-such-customer': 'No customer is registered as {email}.',
    'pricing.groups.unknown-customer': 'No customer has this id.',
    'pricing.groups.add-member': 'Add to {name}',
    'pricing.groups.added': '{customer} added to {name}.',
    'pricing.groups.customer': 'Customer',
    'pricing.groups.added-at': 'Added',
    'pricing.groups.added-by': 'Added by',
    'pricing.groups.remove': 'Remove',
    'pricing.groups.remove-member': 'Remove {name} from the group',
    'pricing.groups.confirm-remove': 'Take {customer} out of {name}?',
    'pricing.groups.removed': '{customer} taken out of {name}.',
    'pricing.groups.no-members': 'Nobody added by hand yet.',
    'pricing.groups.more-members': 'Show more members',
    'pricing.groups.close-members': 'Close the members',
  },
  de: {
    'pricing.groups.title': 'Kundengruppen',
    'pricing.groups.intro':
      'Gruppen wie Großhandel oder Partner, für Preislisten und Aktionen. Zu einer Gruppe gehört, wen Sie hier hinzufügen oder wessen bestätigte E-Mail-Adresse zu einer ihrer Domains gehört.',
    'pricing.groups.name': 'Name',
    'pricing.groups.key': 'Schlüssel',
    'pricing.groups.key-hint':
      'Womit Preislisten, Aktionen und Integrationen die Gruppe benennen: Kleinbuchstaben, Ziffern, - oder _ (grosshandel).',
    'pricing.groups.domains': 'E-Mail-Domains',
    'pricing.groups.domains-optional': 'E-Mail-Domains (optional)',
    'pricing.groups.domains-hint':
      'Kundinnen und Kunden mit bestätigter E-Mail-Adresse bei diesen Domains gehören dazu, durch Kommas getrennt: acme.com',
    'pricing.groups.added-count': 'Von Hand hinzugefügt',
    'pricing.groups.none': 'Noch keine Kundengruppen.',
    'pricing.groups.more-groups': 'Weitere Gruppen zeigen',
    'pricing.groups.new': 'Neue Kundengruppe',
    'pricing.groups.create': 'Gruppe anlegen',
    'pricing.groups.confirm-delete':
      'Die Gruppe „{name}“ löschen? Preislisten und Aktionen, die sie nennen, gelten über sie für niemanden mehr.',
    'pricing.groups.members': 'Mitglieder',
    'pricing.groups.members-of': 'Mitglieder von {name}',
    'pricing.groups.rule-members':
      'Hier stehen die von Ihnen Hinzugefügten; wer eine bestätigte E-Mail-Adresse bei {list} hat, gehört ebenfalls dazu.',
    'pricing.groups.hand-members': 'Die Kundinnen und Kunden, die Sie dieser Gruppe hinzugefügt haben.',
    'pricing.groups.member': 'E-Mail-Adresse oder Kunden-ID',
    'pricing.groups.member-hint': 'Die E-Mail-Adresse, mit der sich jemand registriert hat, oder die Kunden-ID.',
    'pricing.groups.member-expected': 'Bitte eine E-Mail-Adresse oder Kunden-ID angeben.',
    'pricing.groups.no-such-customer': 'Niemand ist als {email} registriert.',
    'pricing.groups.unknown-customer': 'Kein Kunde hat diese ID.',
    'pricing.groups.add-member': 'Zu {name} hinzufügen',
    'pricing.groups.added': '{customer} zu {name} hinzugefügt.',
    'pricing.groups.customer': 'Kunde',
    'pricing.groups.added-at': 'Hinzugefügt',
    'pricing.groups.added-by': 'Hinzugefügt von',
    'pricing.groups.remove': 'Entfernen',
    'pricing.groups.remove-member': '{name} aus der Gruppe entfernen',
    'pricing.groups.confirm-remove': '{customer} aus {name} entfernen?',
    'pricing.groups.removed': '{customer} aus {name} entfernt.',
    'pricing.groups.no-members': 'Noch niemand von Hand hinzugefügt.',
    'pricing.groups.more-members': 'Weitere Mitglieder zeigen',
    'pricing.groups.close-members': 'Mitglieder schließen',
  },
};
