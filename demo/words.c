/*
 * words.c: word lists for the demo generator. Invented names only.
 */
#include "words.h"

#define WORDS(name, ...)                                                                           \
    static const char *const name##_items[] = {__VA_ARGS__};                                       \
    const struct fs_words name = {name##_items, sizeof(name##_items) / sizeof(name##_items[0])}

WORDS(fs_words_company_first, "Alder", "Brook", "Cedar", "Delta", "Elm", "Falcon", "Granite",
      "Harbor", "Iron", "Juniper", "Keystone", "Lakeside", "Meridian", "North", "Oak", "Pioneer",
      "Quarry", "Ridge", "Summit", "Timber", "Union", "Valley", "Westfield", "Yarrow");
WORDS(fs_words_company_last, "Logistics", "Machining", "Foods", "Builders", "Transport", "Plastics",
      "Farms", "Dental", "Print", "Electric", "Motors", "Textiles", "Hotels", "Packaging", "Tools",
      "Clinic", "Bakery", "Steel", "Labs", "Fleet Services");
WORDS(fs_words_company_form, "Ltd", "GmbH", "Inc.", "& Sons", "Group", "Co.", "AG", "LLC");
WORDS(fs_words_industry, "logistics", "metalworking", "food processing", "construction",
      "healthcare", "printing", "agriculture", "hospitality", "retail", "automotive", "textiles",
      "chemicals");
WORDS(fs_words_city, "Ashford", "Bramley", "Carston", "Dunmore", "Eastwick", "Fairhaven",
      "Glenrock", "Hollins", "Ivybridge", "Kettering", "Linwood", "Marston", "Newbury", "Oakham",
      "Pemberton", "Redhill");
WORDS(fs_words_street, "Mill Road", "Station Street", "Harbour Way", "Industrial Park 4",
      "Church Lane", "Market Square", "Riverside Drive", "Canal Street", "Forge Lane",
      "Quarry Road");
WORDS(fs_words_first_name, "Anna", "Ben", "Clara", "David", "Elena", "Felix", "Greta", "Hugo",
      "Ines", "Jonas", "Karin", "Luis", "Mara", "Nils", "Olga", "Paul", "Rita", "Sven", "Tara",
      "Uwe", "Vera", "Walter", "Yusuf", "Zoe");
WORDS(fs_words_last_name, "Adler", "Baker", "Costa", "Dietrich", "Evans", "Fischer", "Garcia",
      "Hansen", "Ivanova", "Jensen", "Keller", "Lopez", "Meyer", "Novak", "Olsen", "Petrov",
      "Quinn", "Richter", "Schmidt", "Torres", "Vogel", "Weber");
WORDS(fs_words_title, "Managing Director", "Head of Purchasing", "Fleet Manager", "Plant Manager",
      "Chief Financial Officer", "Office Manager", "Technical Director", "Procurement Officer",
      "Operations Lead", "Assistant to the CEO");
WORDS(fs_words_hobby, "sailing", "marathon running", "fly fishing", "choir", "vintage cars",
      "gardening", "football (season ticket)", "chess", "mountain biking", "cooking");
WORDS(fs_words_topic, "the new logistics hub", "their daughter's studies abroad",
      "the regional trade fair", "energy prices", "the local football club", "the plant expansion",
      "hiring apprentices", "last winter's floods");
WORDS(fs_words_product, "service contract", "fleet lease", "packaging line", "CNC retrofit",
      "cold-chain monitoring", "forklift fleet", "maintenance plan", "software licences",
      "safety training", "spare-parts subscription");
WORDS(fs_words_competitor, "Norden Systems", "Apex Supply", "Vantage Industrial", "Kraft & Partner",
      "BlueLine Equipment", "Orion Services");
WORDS(fs_words_objective, "agree on a date for a demo with the technical director",
      "learn who signs off purchases above the budget limit",
      "get the current contract's renewal date and volume",
      "present the maintenance plan and ask for a trial",
      "introduce the new product line to the purchasing team",
      "collect the figures needed for a written quote",
      "thank them for the order and ask for a referral");
WORDS(fs_words_need, "downtime on the old line costs them two shifts a month",
      "they must cut energy use by 15% before the audit",
      "the fleet is eight years old and repairs are piling up",
      "their current supplier misses delivery dates",
      "the owner wants one partner for service and parts",
      "they plan a second site and need capacity by spring",
      "staff turnover makes simple operation a must");
WORDS(fs_words_objection, "price is 12% above the current supplier",
      "happy with the current supplier, no reason to change",
      "no budget before the next fiscal year", "worried about the switching effort",
      "needs approval from headquarters", "had a bad experience with a similar product");
WORDS(fs_words_handling, "showed the total cost over five years, not the purchase price",
      "offered a reference visit at a customer of similar size",
      "proposed a phased start within this year's budget",
      "offered to prepare the case for headquarters",
      "offered a trial period with a return option");
WORDS(fs_words_commitment, "will send last year's consumption figures",
      "introduces us to the plant manager", "agrees to a site survey next week",
      "will put us on the supplier list", "shares the tender documents");
WORDS(fs_words_next_step, "send the written quote", "bring an engineer for the site survey",
      "book the product demo", "call to thank them for the meeting",
      "follow up on the budget decision", "send the reference customer's contact",
      "meet the decision maker", "deliver the trial unit");
WORDS(fs_words_observation, "The reception was busy; the gatekeeper asked for a brochure first.",
      "Production was running at full speed; they mentioned overtime.",
      "The meeting room showed awards from the regional business association.",
      "They are renovating the warehouse; a new loading dock is planned.",
      "Our competitor's service van was parked in the yard.",
      "The owner joined for the last ten minutes and asked about delivery times.",
      "They keep a detailed log of machine failures; they offered to share it.",
      "The team seemed open but cautious about changing suppliers mid-year.");
WORDS(fs_words_material, "price list", "reference letters", "product samples", "brochure",
      "ROI calculation", "contract draft");
WORDS(fs_words_tag, "key-account", "referral", "trade-fair", "seasonal", "tender", "multi-site",
      "family-owned", "expanding");
